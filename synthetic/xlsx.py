"""A minimal streaming xlsx (SpreadsheetML) writer for the generator.

xlsxwriter writes about 100,000 cells a second, which makes the scale-100 workbooks take tens of
minutes; this writes each sheet's XML rows straight to a temporary file (bounded memory) and zips
the package at the end, ten times faster. It writes what CPIMS+ exports hold: inline strings,
numbers, and real date cells (numbers with a yyyy-mm-dd style).

The package holds the parts Excel and Primero's exporter write, so every reader sees whole rows:
each sheet starts with its ``<dimension>`` (openpyxl's read-only mode and pandas size rows by it;
without it they return ragged rows), a sheet view and default row height, and the workbook has
its book view and document properties (``docProps/core.xml``, ``docProps/app.xml``). A sheet's
rows are streamed to a temporary file first because the dimension comes before them.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_DOC_CT = "application/vnd.openxmlformats"
_CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
# A carriage return in a cell must be a character reference: XML parsers turn a literal one into \n.
_ENTITIES = {"\r": "&#13;"}
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letters(n: int) -> list[str]:
    letters = []
    for index in range(n):
        name, k = "", index + 1
        while k:
            k, rest = divmod(k - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


class StreamingWorkbook:
    def __init__(self, path: Path, sheet_names: list[str]):
        self.path = Path(path)
        self.sheet_names = sheet_names
        self.folder = tempfile.TemporaryDirectory(prefix="xlsx-", dir=self.path.parent)
        self.handles = [
            open(Path(self.folder.name) / f"sheet{k + 1}.rows", "w", encoding="utf-8")  # noqa: SIM115
            for k in range(len(sheet_names))
        ]
        self.next_row = [1] * len(sheet_names)
        self.width = [0] * len(sheet_names)
        self.letters = _column_letters(64)

    def write_rows(self, sheet: int, rows, date_columns: frozenset[int] = frozenset()) -> None:
        """Append rows (lists of str, int, float or None) to a sheet; floats in ``date_columns`` are dates."""
        handle, letters, number = self.handles[sheet], self.letters, self.next_row[sheet]
        out, width = [], self.width[sheet]
        for values in rows:
            width = max(width, len(values))
            cells = []
            for column, value in enumerate(values):
                if value is None:
                    continue
                ref = f"{letters[column]}{number}"
                if isinstance(value, str):
                    if value == "":
                        continue
                    space = ' xml:space="preserve"' if value != value.strip() else ""
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(value, _ENTITIES)}</t></is></c>')
                elif column in date_columns:
                    cells.append(f'<c r="{ref}" s="1"><v>{value:g}</v></c>')
                else:
                    cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            out.append(f'<row r="{number}">{"".join(cells)}</row>')
            number += 1
        handle.write("".join(out))
        self.next_row[sheet] = number
        self.width[sheet] = width

    def _dimension(self, sheet: int) -> str:
        rows, width = self.next_row[sheet] - 1, self.width[sheet]
        return f"A1:{self.letters[width - 1]}{rows}" if rows and width else "A1"

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        count = len(self.sheet_names)
        with zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
            package.writestr("[Content_Types].xml", self._content_types(count))
            package.writestr(
                "_rels/.rels",
                f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
                f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
                f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
                "</Relationships>",
            )
            package.writestr("docProps/core.xml", self._core_properties())
            package.writestr("docProps/app.xml", self._app_properties())
            sheets = "".join(
                f'<sheet name={quoteattr(name)} sheetId="{k + 1}" r:id="rId{k + 1}"/>'
                for k, name in enumerate(self.sheet_names)
            )
            package.writestr(
                "xl/workbook.xml",
                f'{_XML_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/>'
                f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>',
            )
            relations = "".join(
                f'<Relationship Id="rId{k + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{k + 1}.xml"/>'
                for k in range(count)
            )
            package.writestr(
                "xl/_rels/workbook.xml.rels",
                f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
                f'{relations}<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
                "</Relationships>",
            )
            package.writestr("xl/styles.xml", _STYLES)
            for k in range(count):
                self._write_sheet(package, k)
        self.folder.cleanup()

    def _write_sheet(self, package: zipfile.ZipFile, sheet: int) -> None:
        rows = Path(self.folder.name) / f"sheet{sheet + 1}.rows"
        selected = ' tabSelected="1"' if sheet == 0 else ""
        head = (
            f'{_XML_HEAD}<worksheet xmlns="{_MAIN}"><dimension ref="{self._dimension(sheet)}"/>'
            f'<sheetViews><sheetView workbookViewId="0"{selected}/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
        )
        big = rows.stat().st_size > 1 << 30  # a part over 2 GiB needs ZIP64, which must be asked for up front
        with package.open(f"xl/worksheets/sheet{sheet + 1}.xml", "w", force_zip64=big) as part:
            part.write(head.encode())
            with open(rows, "rb") as body:
                shutil.copyfileobj(body, part, 1 << 20)
            part.write(b"</sheetData></worksheet>")

    @staticmethod
    def _core_properties() -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f'{_XML_HEAD}<cp:coreProperties xmlns:cp="{_CORE}" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>CPIMS+ (synthetic export)</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'
        )

    def _app_properties(self) -> str:
        count = len(self.sheet_names)
        titles = "".join(f"<vt:lpstr>{escape(name)}</vt:lpstr>" for name in self.sheet_names)
        return (
            f'{_XML_HEAD}<Properties xmlns="{_REL.replace("relationships", "extended-properties")}" '
            f'xmlns:vt="{_VT}"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>'
            '<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" baseType="variant">'
            f"<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{count}</vt:i4></vt:variant>"
            f'</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="{count}" baseType="lpstr">{titles}'
            "</vt:vector></TitlesOfParts></Properties>"
        )

    @staticmethod
    def _content_types(count: int) -> str:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{k + 1}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for k in range(count)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{overrides}'
            f'<Override PartName="/docProps/core.xml" ContentType="{_DOC_CT}-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            f'ContentType="{_DOC_CT}-officedocument.extended-properties+xml"/></Types>'
        )

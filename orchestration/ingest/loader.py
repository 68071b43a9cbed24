"""The generic raw loader: any country's export folders into DuckDB raw tables, nothing dropped.

Every source row lands in ``raw.<iso3>__<table>`` as text, with lineage columns. An export is
loaded in one transaction; loading the same files again changes nothing (the load id is a hash
of the files). An export that cannot be read is recorded as failed and leaves the country's
earlier exports in place.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from queue import Full, Queue

import duckdb
import pyarrow as pa

from orchestration.ingest.profiles import Profile, TableSpec, raw_column_name
from orchestration.ingest.readers import READERS, ExportFileError
from orchestration.warehouse import connect, quote_identifier

LINEAGE_COLUMNS = {
    "_country": "VARCHAR",
    "_export_date": "DATE",
    "_source_file": "VARCHAR",
    "_source_sheet": "VARCHAR",
    "_source_row": "BIGINT",
    "_item_index": "INTEGER",
    "_file_sha256": "VARCHAR",
    "_load_id": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
}
READY_MARKER = "_READY"


class CountryLoadError(Exception):
    """One or more exports of a country could not be loaded (the others were)."""

    def __init__(self, message: str, results: list[ExportLoad]):
        super().__init__(message)
        self.results = results


@dataclass
class ExportLoad:
    country: str
    export_date: str
    status: str  # loaded | unchanged | failed
    load_id: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # raw table -> rows
    error: str | None = None

    def summary(self) -> dict:
        """What Dagster's metadata and the run history keep of this load (never a row's content)."""
        return {
            "country_code": self.country,
            "export_date": self.export_date,
            "status": self.status,
            "load_id": self.load_id,
            "rows": sum(self.rows.values()),
            "error": self.error,
        }


def ready_exports(landing: Path, country: str) -> list[Path]:
    """Export folders of a country that are complete (``_READY`` written), oldest first."""
    root = Path(landing) / country
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / READY_MARKER).exists())


def raw_columns(spec: TableSpec) -> dict[str, str]:
    """A raw table's columns and DuckDB types: the lineage, then every field as text (and, for
    objects nested in a case, the case's id)."""
    columns = {**LINEAGE_COLUMNS, **{raw_column_name(f): "VARCHAR" for f in spec.fields}}
    if spec.nested_in:
        columns["case_id"] = "VARCHAR"
    return columns


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """Create the profile's raw tables (empty) and the load ledger, so dbt sources always resolve."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.export_loads (load_id varchar, country varchar, export_date date,"
        " status varchar, error varchar, loaded_at timestamp, export_folder varchar)"
    )
    # Warehouses from before the ledger named folders: add the column.
    con.execute("alter table raw.export_loads add column if not exists export_folder varchar")
    con.execute(
        "create table if not exists raw.export_files (load_id varchar, country varchar, export_date date,"
        " source_file varchar, source_sheet varchar, raw_table varchar, file_sha256 varchar, rows_loaded bigint)"
    )
    for spec in profile.tables:
        ddl = ", ".join(f"{quote_identifier(name)} {kind}" for name, kind in raw_columns(spec).items())
        con.execute(f"create table if not exists raw.{quote_identifier(profile.raw_table_name(spec.table))} ({ddl})")


def ensure_all_raw_tables(database: Path, profiles: list[Profile]) -> None:
    """Every profile's raw tables exist (empty until loaded), whichever countries a run loads."""
    con = connect(database)
    try:
        for profile in profiles:
            ensure_raw_tables(con, profile)
    finally:
        con.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_inside_landing(folder: Path) -> None:
    """Links are not followed out of the landing zone (landing/<ISO3>/<date>/): a folder or file that
    leads elsewhere could make the warehouse read any file on the machine."""
    landing = folder.parent.parent.resolve()
    for path in [folder, *folder.iterdir()]:
        if not path.resolve().is_relative_to(landing):
            raise ExportFileError(
                path,
                "export folder",
                "every file of an export lies inside the landing zone",
                "it is a link that leads outside the landing zone",
                "Copy the export into the landing zone instead of linking to it.",
            )


def export_files(profile: Profile, folder: Path) -> list[tuple[Path, object]]:
    """The files of an export folder with their spec; a required file that is missing fails."""
    _check_inside_landing(folder)
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != READY_MARKER)
    found = []
    for spec in profile.files:
        matching = [n for n in names if spec.matches(n)]
        if not matching:
            raise ExportFileError(
                folder / spec.canonical_name,
                "export folder",
                f"the {profile.country_code} export has {spec.pattern}",
                f"the file is missing (files present: {names})",
            )
        found.extend((folder / n, spec) for n in matching)
    return found


def _raw(table: str) -> str:
    return f"raw.{quote_identifier(table)}"


def _columns(con, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"describe {relation}").fetchall()]


def _add_missing_columns(con, relation: str, columns) -> None:
    """A column the profile does not know is kept (as text), never dropped."""
    existing = set(_columns(con, relation))
    for column in columns:
        if column not in existing:
            con.execute(f"alter table {relation} add column {quote_identifier(column)} VARCHAR")


# An export is first written to loading tables (temporary tables of the loader's connection), batch
# by batch, each batch committed; then one transaction replaces the export's rows in the raw tables
# with them. Appending every batch inside that transaction kept all of them in memory (DuckDB's
# transaction-local storage is not bounded by its memory limit: a scale-100 workbook took the
# loader past 6 GB); a temporary table is, and spills to DuckDB's temporary folder beyond it. One
# INSERT ... SELECT then writes the rows to the warehouse file once. The raw tables still change
# all at once or not at all, and the loading tables are dropped whatever happens.
LOADING_PREFIX = "_loading__"


def _loading_table(table: str) -> str:
    return f"temp.main.{quote_identifier(LOADING_PREFIX + table)}"


def _create_loading_tables(con, profile: Profile) -> None:
    for spec in profile.tables:
        table = profile.raw_table_name(spec.table)
        con.execute(f"create or replace temp table {_loading_table(table)} as select * from {_raw(table)} limit 0")


def _drop_loading_tables(con, profile: Profile) -> None:
    for spec in profile.tables:
        table = profile.raw_table_name(spec.table)
        con.execute(f"drop table if exists {_loading_table(table)}")
        # Loading tables were raw tables before f904970: one that a killed load left there goes too.
        con.execute(f"drop table if exists {_raw(LOADING_PREFIX + table)}")


def _insert(con, relation: str, batch: pa.Table, lineage: dict[str, object]) -> None:
    """A reader's batch into a loading table, with the lineage every row of the file shares."""
    _add_missing_columns(con, relation, [*batch.column_names, *lineage])
    constants = ", ".join(f"? as {quote_identifier(name)}" for name in lineage)
    con.register("raw_batch", batch)
    try:
        con.execute(
            f"insert into {relation} by name select *, {constants} from raw_batch",
            list(lineage.values()),
        )
    finally:
        con.unregister("raw_batch")


def _check_folder_date(folder: Path) -> None:
    """The folder's name is the export date, and an export cannot come from the future."""
    try:
        export_date = datetime.strptime(folder.name, "%Y-%m-%d").date()
    except ValueError:
        raise ExportFileError(
            folder,
            "export folder",
            "landing/<ISO3>/<export_date>/ with the date as YYYY-MM-DD",
            "the name is not a date",
        ) from None
    if export_date > date.today():
        raise ExportFileError(
            folder,
            "export folder",
            "an export is dated on or before the day it is loaded",
            f"the export date {export_date} is after today ({date.today()})",
            "Rename the folder to the date the export was taken.",
        )


def _failure(folder: Path, error: Exception) -> str:
    """The ledger's message for a failed export. An error the readers did not foresee is said without
    quoting any value (values are personal data)."""
    if isinstance(error, ExportFileError):
        return str(error)
    cause = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", str(error)).strip()[:300]
    return (
        f"{folder}: reading the export failed unexpectedly ({type(error).__name__}: {cause}) "
        "(rule: every file of an export reads as its profile says)"
    )


def load_export(con: duckdb.DuckDBPyConnection, profile: Profile, folder: Path) -> ExportLoad:
    country = profile.country_code
    result = ExportLoad(country, folder.name, status="failed")
    try:
        _check_folder_date(folder)
        files = export_files(profile, folder)
        checksums = {path: _sha256(path) for path, _ in files}
    except Exception as error:  # noqa: BLE001 - every failure is recorded (a link loop raises RuntimeError)
        result.error = _failure(folder, error)
        _record(con, result, folder=folder)
        return result
    fingerprint = "|".join([country, folder.name, *sorted(f"{p.name}:{c}" for p, c in checksums.items())])
    result.load_id = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    if _already_loaded(con, result, folder):
        result.status = "unchanged"
        result.rows = _rows_of(con, result.load_id)
        return result
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        _create_loading_tables(con, profile)
        file_rows = []
        for path, spec in files:
            file_rows += _load_file(con, profile, path, spec, checksums[path], result, loaded_at)
        _require_cases(profile, folder, result)
        _replace_export(con, profile, folder, file_rows, result, loaded_at)
    except Exception as error:  # noqa: BLE001 - every failure is recorded and blocks publication
        result.status, result.rows, result.error = "failed", {}, _failure(folder, error)
        _record(con, result, loaded_at, folder)
    finally:
        _drop_loading_tables(con, profile)
    return result


def _replace_export(con, profile: Profile, folder: Path, file_rows: list[list], result: ExportLoad, loaded_at) -> None:
    """In one transaction: the export's earlier rows out, its loading tables' rows in, the load recorded."""
    country = profile.country_code
    con.begin()
    try:
        for spec in profile.tables:
            table = profile.raw_table_name(spec.table)
            loading = _loading_table(table)
            con.execute(f"delete from {_raw(table)} where _country = ? and _export_date = ?", [country, folder.name])
            _add_missing_columns(con, _raw(table), _columns(con, loading))
            con.execute(f"insert into {_raw(table)} by name select * from {loading}")
        con.execute("delete from raw.export_files where country = ? and export_date = ?", [country, folder.name])
        if file_rows:
            con.executemany("insert into raw.export_files values (?, ?, ?, ?, ?, ?, ?, ?)", file_rows)
        result.status = "loaded"
        _record(con, result, loaded_at, folder)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _require_cases(profile: Profile, folder: Path, result: ExportLoad) -> None:
    """An export with no case rows (a header-only file, say) would empty its country: refuse it."""
    case_table = profile.raw_table_name(profile.harmonise["case_tables"][0])
    if result.rows.get(case_table, 0) == 0:
        raise ExportFileError(
            folder,
            case_table,
            "an export holds at least one case row",
            "no case rows were read (the files hold a header only, or nothing)",
            "The country keeps its last good export; send a complete export.",
        )


def _already_loaded(con, result: ExportLoad, folder: Path) -> bool:
    """These exact files are in the warehouse: the file ledger holds this load (a load of other files
    for the same export replaces it; a failed one changes nothing). If a later attempt at the same
    export failed (a broken copy, since put right), record them as loaded again so that the failure
    no longer counts. Files put back after a correction are loaded again: the ledger of loads still
    names them, but their rows were replaced."""
    loaded = con.execute("select count(*) from raw.export_files where load_id = ?", [result.load_id]).fetchone()[0]
    if not loaded:
        return False
    latest = con.execute(
        "select load_id, status from raw.export_loads where country = ? and export_date = ?"
        " order by loaded_at desc limit 1",
        [result.country, result.export_date],
    ).fetchone()
    if latest != (result.load_id, "loaded"):
        _record(con, ExportLoad(result.country, result.export_date, "loaded", result.load_id), folder=folder)
    return True


def _rows_of(con, load_id: str) -> dict[str, int]:
    rows = con.execute(
        "select raw_table, sum(rows_loaded) from raw.export_files where load_id = ? group by raw_table", [load_id]
    ).fetchall()
    return {table: int(count) for table, count in rows}


def _load_file(con, profile: Profile, path: Path, spec, checksum: str, result: ExportLoad, loaded_at) -> list[list]:
    """Write a file's rows to the loading tables; its rows of ``raw.export_files``, to record."""
    counts: dict[tuple[str, str | None], int] = {}
    for table_spec, sheet, batch in _read_ahead(READERS[spec.format](path, spec)):
        table = profile.raw_table_name(table_spec.table)
        lineage = {
            "_country": profile.country_code,
            "_export_date": result.export_date,
            "_source_file": path.name,
            "_source_sheet": sheet,
            "_file_sha256": checksum,
            "_load_id": result.load_id,
            "_loaded_at": loaded_at,
        }
        _insert(con, _loading_table(table), batch, lineage)
        counts[(table, sheet)] = counts.get((table, sheet), 0) + batch.num_rows
        result.rows[table] = result.rows.get(table, 0) + batch.num_rows
    file_rows = []
    for table_spec in spec.tables:
        table = profile.raw_table_name(table_spec.table)
        rows = counts.get((table, table_spec.sheet), 0)
        result.rows.setdefault(table, 0)
        where = [result.load_id, profile.country_code, result.export_date, path.name, table_spec.sheet, table]
        file_rows.append([*where, checksum, rows])
    return file_rows


_END = object()


@dataclass
class _ReaderFailed:
    error: BaseException


def _read_ahead(batches: Generator, depth: int = 2) -> Iterator:
    """A reader's batches, read up to ``depth`` ahead in a thread of their own: the reader's Python
    (workbook cells, JSON lines) runs while DuckDB inserts the batch before, which releases the
    interpreter's lock. An error of the reader is raised here, as if it had been read inline; when
    the loader stops early, the reader is stopped and closed (its files and connection with it)."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_END)
        except BaseException as error:  # noqa: BLE001 - handed to the loader's thread, raised there
            put(_ReaderFailed(error))
        finally:
            batches.close()

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        while (item := queue.get()) is not _END:
            if isinstance(item, _ReaderFailed):
                raise item.error
            yield item
    finally:
        stop.set()
        reader.join()


def _record(con, result: ExportLoad, loaded_at: datetime | None = None, folder: Path | None = None) -> None:
    con.execute(
        "insert into raw.export_loads (load_id, country, export_date, status, error, loaded_at, export_folder)"
        " values (?, ?, ?, ?, ?, ?, ?)",
        [
            result.load_id,
            result.country,
            result.export_date if _is_date(result.export_date) else None,
            result.status,
            result.error,
            loaded_at or datetime.now(UTC).replace(tzinfo=None),
            folder.name if folder is not None else result.export_date,
        ],
    )


def withdraw_missing_failures(con, country: str, folders: list[Path]) -> None:
    """A failed export whose folder has left the landing zone (renamed, removed) no longer blocks."""
    present = [f.name for f in folders]
    con.execute(
        """
        insert into raw.export_loads (load_id, country, export_date, status, error, loaded_at, export_folder)
        select null, country, export_date, 'withdrawn', 'the export folder is no longer in the landing zone',
               now()::timestamp, export_folder
        from (
            select *, row_number() over (partition by export_folder order by loaded_at desc) as attempt
            from raw.export_loads where country = ? and export_folder is not null
        )
        where attempt = 1 and status = 'failed' and not list_contains(?, export_folder)
        """,
        [country, present],
    )


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
        return True
    except ValueError:
        return False


def load_country(
    database: Path, landing: Path, profile: Profile, folders: list[Path] | None = None
) -> list[ExportLoad]:
    """Load every ready export of one country (or the given ones, as a run fixed them when it
    started); raise ``CountryLoadError``, carrying every result, if any failed."""
    if folders is None:
        folders = ready_exports(landing, profile.country_code)
    con = connect(database)
    try:
        ensure_raw_tables(con, profile)
        results = [load_export(con, profile, folder) for folder in folders]
        withdraw_missing_failures(con, profile.country_code, folders)
    finally:
        con.close()
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise CountryLoadError(
            f"{profile.country_code}: {len(failed)} of {len(results)} export(s) could not be loaded; earlier good "
            "exports stay in the warehouse.\n" + "\n".join(f"- {r.export_date}: {r.error}" for r in failed),
            results,
        )
    return results

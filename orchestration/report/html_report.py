"""The report: one self-contained HTML page (inline CSS and SVG charts, nothing fetched when opened),
built from the published marts only.
"""

from __future__ import annotations

import html
import io
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.transform.policy import policy

# The review's headline figures (indicators.md) and how the warehouse's figure is shown.
FINDINGS = [
    ("Children registered in the study period", "over 91,000", "children_in_scope", "{:,.0f}"),
    ("Mean age (years)", "11.5", "mean_age_years", "{:.1f}"),
    ("Boys", "56%", "pct_male", "{:.1f}%"),
    ("Unaccompanied or separated", "19%", "pct_uasc", "{:.1f}%"),
    ("Mean age of UASC (years)", "12", "mean_age_uasc_years", "{:.1f}"),
    ("Boys among UASC", "slightly above 56%", "pct_male_among_uasc", "{:.1f}%"),
    ("Refugees (Kenya and Bangladesh all refugees)", "100% in KEN, BGD", "pct_displacement__refugee", "{:.1f}%"),
    ("Neglect, share of concerns", "43%", "pct_concern__neglect", "{:.1f}%"),
    ("Child labour, share of concerns", "18%", "pct_concern__child_labour", "{:.1f}%"),
    ("Physical violence, share of concerns", "rank 3 or 4", "pct_concern__physical_violence", "{:.1f}%"),
    ("Emotional violence, share of concerns", "rank 3 or 4", "pct_concern__emotional_violence", "{:.1f}%"),
    ("MHPSS, share of services", "25%", "pct_service__mhpss", "{:.1f}%"),
    ("Education, share of services", "14%", "pct_service__education", "{:.1f}%"),
    ("Health, share of services", "12%", "pct_service__health", "{:.1f}%"),
    ("In family care", "72%", "pct_care_family", "{:.1f}%"),
    ("Mean case duration (months)", "5.5, varying by country", "mean_case_duration_months", "{:.1f}"),
    ("Closed cases with a positive outcome", "most", "pct_closed_positive_outcome", "{:.1f}%"),
]
OUTCOME_COLOURS = {
    "positive": "#2e7d32",
    "neutral": "#9e9e9e",
    "negative": "#c62828",
    "unknown": "#ffb300",
    "excluded": "#5c6bc0",
}
CLOSURE_CHECKS = {
    "d1": "closed, no closure date",
    "d2": "closure date, not closed",
    "d3": "closed before registered",
    "d4": "closed, no reason",
    "d5": "NGA reasons disagree",
}
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #1565c0;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;
text-align:right}th:first-child,td:first-child{text-align:left}thead th{background:#e3f2fd}
.note{color:#555;font-size:.85rem}.sig{font-weight:600;color:#1565c0}svg text{font-size:11px;font-family:inherit}
"""


def _figure(indicators: pd.DataFrame, indicator: str, country: str) -> float | None:
    row = indicators[
        (indicators.indicator_id == indicator)
        & (indicators.country_code == country)
        & (indicators.dimension == "total")
    ]
    if row.empty or pd.isna(row.value.iloc[0]):
        return None
    return float(row.value.iloc[0])


def _cell(value: float | None, fmt: str) -> str:
    return "<td>suppressed</td>" if value is None else f"<td>{html.escape(fmt.format(value))}</td>"


def _findings_table(countries: list[str], indicators: pd.DataFrame) -> str:
    header = "".join(f"<th>{c}</th>" for c in ["Finding", "Review", "All countries", *countries])
    rows = []
    for label, review, indicator, fmt in FINDINGS:
        cells = "".join(_cell(_figure(indicators, indicator, c), fmt) for c in ["ALL", *countries])
        rows.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(review)}</td>{cells}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _bar_chart(values: dict[str, float | None], unit: str, width: int = 640) -> str:
    """Horizontal bars, one per label."""
    bar_height, label_width = 22, 60
    top = max([v for v in values.values() if v is not None] + [0.0]) or 1.0
    parts = []
    for i, (label, value) in enumerate(values.items()):
        y = i * (bar_height + 6)
        length = 0 if value is None else (width - label_width - 80) * value / top
        shown = "suppressed" if value is None else f"{value:.1f} {unit}"
        parts.append(
            f'<text x="0" y="{y + 15}">{html.escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" fill="#1565c0"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}">{shown}</text>'
        )
    height = len(values) * (bar_height + 6)
    return f'<svg width="{width}" height="{height}" role="img">{"".join(parts)}</svg>'


def _outcome_chart(countries: list[str], closures: pd.DataFrame, width: int = 640) -> str:
    """Stacked bars: the outcomes of closed cases per country."""
    bar_height, label_width, usable = 22, 60, width - 60 - 20
    parts = []
    for i, country in enumerate(["ALL", *countries]):
        y, x = i * (bar_height + 6), float(label_width)
        shares = closures[closures.country_code == country].groupby("closure_outcome").pct.sum()
        parts.append(f'<text x="0" y="{y + 15}">{country}</text>')
        for outcome, colour in OUTCOME_COLOURS.items():
            share = float(shares.get(outcome, 0.0) or 0.0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{usable * share / 100:.1f}" height="{bar_height}" '
                f'fill="{colour}"><title>{outcome}: {share:.1f}%</title></rect>'
            )
            x += usable * share / 100
    legend_y = 7 * (bar_height + 6) + 14
    for k, (outcome, colour) in enumerate(OUTCOME_COLOURS.items()):
        parts.append(
            f'<rect x="{label_width + k * 110}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{label_width + k * 110 + 16}" y="{legend_y}">{outcome}</text>'
        )
    return f'<svg width="{width}" height="{legend_y + 10}" role="img">{"".join(parts)}</svg>'


def _sex_differences(countries: list[str], differences: pd.DataFrame) -> str:
    rows = []
    shown = differences[differences.is_significant & differences.country_code.isin(["ALL", *countries])]
    shown = shown.sort_values(
        ["country_code", "difference_pp"], key=lambda s: s if s.name != "difference_pp" else -s.abs()
    )
    for r in shown.itertuples():
        prevalence = (
            ("suppressed", "suppressed", "")
            if pd.isna(r.prevalence_boys_pct)
            else (f"{r.prevalence_boys_pct:.1f}%", f"{r.prevalence_girls_pct:.1f}%", f"{r.difference_pp:+.1f}")
        )
        rows.append(
            f"<tr><td>{r.country_code}</td><td>{html.escape(r.concern_category)}</td><td>{prevalence[0]}</td>"
            f"<td>{prevalence[1]}</td><td>{prevalence[2]}</td><td>{r.p_value_bh:.2g}</td>"
            f"<td class='sig'>{r.more_exposed}</td></tr>"
        )
    header = (
        "<tr><th>Country</th><th>Concern</th><th>Boys</th><th>Girls</th><th>Difference (pp)</th>"
        "<th>p (BH)</th><th>More exposed</th></tr>"
    )
    return f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table>"


def _quality_table(countries: list[str], quality: pd.DataFrame) -> str:
    latest = quality[quality.is_latest_export & (quality.check_kind == "defect")]
    checks = sorted(latest.check_id.unique(), key=lambda c: int(c[1:]))
    header = "".join(f"<th>{c.upper()}</th>" for c in checks)
    rows = []
    for country in countries:
        cells = []
        for check in checks:
            row = latest[(latest.country_code == country) & (latest.check_id == check)]
            rate = None if row.empty or pd.isna(row.rate_pct.iloc[0]) else float(row.rate_pct.iloc[0])
            cells.append("<td>-</td>" if rate is None else f"<td>{rate:.1f}%</td>")
        rows.append(f"<tr><td>{country}</td>{''.join(cells)}</tr>")
    return f"<table><thead><tr><th>Country</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _closure_quality(countries: list[str], quality: pd.DataFrame) -> str:
    latest = quality[quality.is_latest_export & quality.check_id.isin(list(CLOSURE_CHECKS))]
    parts = []
    for check, label in CLOSURE_CHECKS.items():
        values = {}
        for country in countries:
            row = latest[(latest.country_code == country) & (latest.check_id == check)]
            values[country] = None if row.empty or pd.isna(row.rate_pct.iloc[0]) else float(row.rate_pct.iloc[0])
        parts.append(f"<h3>{check.upper()}: {html.escape(label)}</h3>{_bar_chart(values, '%', 560)}")
    return "".join(parts)


def _trend_small_multiples(countries: list[str], trend: pd.DataFrame) -> str:
    """One panel per country: each defect's rate in the country's latest export, build after build
    (matplotlib, drawn as inline SVG so the page fetches nothing)."""
    pyplot = _pyplot()
    defects = trend[trend.check_kind == "defect"].copy()
    if defects.empty:
        return "<p class='note'>No build has recorded its rates yet.</p>"
    builds = sorted(defects.built_at.unique())
    defects["build"] = defects.built_at.map({b: i + 1 for i, b in enumerate(builds)})
    checks = sorted(defects.check_id.unique(), key=lambda c: int(c[1:]))
    rows = -(-len(countries) // 3)
    figure, axes = pyplot.subplots(
        rows, 3, figsize=(11, 2.8 * rows), sharex=True, constrained_layout=True, squeeze=False
    )
    for unused in axes.flat[len(countries) :]:
        unused.set_visible(False)
    colours = pyplot.get_cmap("tab20").colors
    for axis, country in zip(axes.flat, countries, strict=False):
        part = defects[defects.country_code == country]
        for i, check in enumerate(checks):
            series = part[part.check_id == check].sort_values("build")
            axis.plot(
                series.build,
                series.rate_pct,
                marker="o",
                markersize=3,
                linewidth=1.2,
                color=colours[i % len(colours)],
                label=check.upper(),
            )
        jumped = part[part.rate_jumped.fillna(False).astype(bool)]
        axis.scatter(jumped.build, jumped.rate_pct, s=60, facecolors="none", edgecolors="#c62828", linewidths=1.5)
        axis.set_title(country, fontsize=10)
        axis.set_ylabel("% of records", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in axes[-1]:
        axis.set_xlabel("build", fontsize=8)
        axis.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize=7, title="defect", title_fontsize=8)
    return _inline_svg(figure)


_PYPLOT_LOCK = threading.Lock()  # pyplot keeps its figures in one global registry: one thread draws at a time


def _floats(values) -> np.ndarray:
    """Numbers for matplotlib: a nullable column (a suppressed count) gives NaN, which draws nothing."""
    return pd.Series(values).to_numpy(dtype="float64", na_value=np.nan)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def warm_up() -> None:
    """Import matplotlib and draw one small figure (about 0.3 s: pyplot's imports, the font list),
    so that the report's first chart draws at once. The dbt step calls it in a background thread
    while dbt builds in its own process; pyplot's figures are global, so the report waits for it."""
    with _PYPLOT_LOCK:
        pyplot = _pyplot()
        figure = pyplot.figure(figsize=(2, 1))
        figure.text(0.5, 0.5, "0-9 %", ha="center")
        figure.savefig(io.StringIO(), format="svg")
        pyplot.close(figure)


def _inline_svg(figure) -> str:
    """A matplotlib figure as inline SVG (the page fetches nothing)."""
    import matplotlib
    from matplotlib import pyplot

    buffer = io.StringIO()
    # The same data draws the same bytes (hashsalt); text stays text, not a path per glyph (smaller, faster).
    with matplotlib.rc_context({"svg.hashsalt": "cpwh-report", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    pyplot.close(figure)
    svg = buffer.getvalue()
    # Inline SVG in HTML needs no XML namespaces or RDF metadata (their URIs are names, never fetched),
    # and the axes are scaled to the data, so the clip paths (url(#…) references) can go too.
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg[svg.index("<svg") :], flags=re.S)
    svg = re.sub(r"<clipPath\b.*?</clipPath>", "", svg, flags=re.S)
    svg = re.sub(r'\s+(xmlns(:xlink)?|clip-path)="[^"]*"', "", svg)
    return svg.replace("xlink:href=", "href=")


def _panels(count: int, columns: int = 3, height: float = 2.6):
    pyplot = _pyplot()
    rows = -(-count // columns)
    figure, axes = pyplot.subplots(rows, columns, figsize=(11, height * rows), constrained_layout=True, squeeze=False)
    for unused in axes.flat[count:]:
        unused.set_visible(False)
    return figure, axes


def _survival_curves(groups: list[str], curve: pd.DataFrame, summary: pd.DataFrame) -> str:
    """Per country (and all together): the estimated share of cases still open, month after month
    since registration, with its 95 % band; the median marked, and the review's mean over closed
    cases beside it."""
    totals = curve[curve.dimension == "total"]
    if totals.empty:
        return "<p class='note'>No time-to-closure estimate is published.</p>"
    figure, axes = _panels(len(groups))
    for axis, country in zip(axes.flat, groups, strict=False):
        part = totals[totals.country_code == country].sort_values("month_number").dropna(subset=["still_open_pct"])
        months = _floats(part.month_number)
        axis.fill_between(
            months, _floats(part.still_open_lower_pct), _floats(part.still_open_upper_pct), step="post", color="#90caf9"
        )
        axis.step(months, _floats(part.still_open_pct), where="post", color="#1565c0", linewidth=1.5)
        row = summary[(summary.country_code == country) & (summary.dimension == "total")]
        if not row.empty and pd.notna(row.median_months.iloc[0]):
            median = float(row.median_months.iloc[0])
            axis.axvline(median, color="#c62828", linestyle="--", linewidth=1)
            axis.annotate(
                f"median {median:.1f}",
                (median, 52),
                fontsize=7,
                color="#c62828",
                xytext=(3, 0),
                textcoords="offset points",
            )
        if not row.empty and pd.notna(row.mean_closed_months.iloc[0]):
            axis.axvline(float(row.mean_closed_months.iloc[0]), color="#616161", linestyle=":", linewidth=1)
        axis.axhline(50, color="#bdbdbd", linewidth=0.6)
        axis.set_ylim(0, 100)
        axis.set_title("All countries" if country == "ALL" else country, fontsize=10)
        axis.set_xlabel("months since registration", fontsize=8)
        axis.set_ylabel("% still open", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    return _inline_svg(figure)


def _survival_table(groups: list[str], summary: pd.DataFrame) -> str:
    def months(days) -> str:
        return "not reached" if pd.isna(days) else f"{days / 30.4375:.1f}"

    rows = []
    for country in groups:
        row = summary[(summary.country_code == country) & (summary.dimension == "total")]
        if row.empty:
            continue
        r = row.iloc[0]
        if bool(r.suppressed):
            cells = ["suppressed"] * 7
        else:
            cells = [
                f"{months(r.median_days)} ({months(r.median_lower_days)} to {months(r.median_upper_days)})",
                *(f"{r[f'still_open_{m}m_pct']:.0f}%" for m in (1, 3, 6, 12)),
                f"{r.mean_closed_months:.1f}" if pd.notna(r.mean_closed_months) else "",
                f"{int(r.censored):,}",
            ]
        name = "All countries" if country == "ALL" else country
        rows.append(f"<tr><td>{name}</td>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in (
            "",
            "Median months (95% CI)",
            "Open at 1 m",
            "3 m",
            "6 m",
            "12 m",
            "Review's mean, closed only",
            "Open (censored)",
        )
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _case_flow(countries: list[str], flow: pd.DataFrame) -> str:
    """Per country: cases opened, closed, reopened and transferred month by month (bars), and the
    open caseload at each month's end (line, right axis)."""
    flows = flow[~flow.is_baseline.astype(bool)] if not flow.empty else flow
    if flows.empty:
        return (
            "<p class='note'>One export per country so far: the flow needs successive exports "
            "(the first export of each country is its baseline).</p>"
        )
    shown = [c for c in countries if c in set(flow.country_code)]
    figure, axes = _panels(len(shown))
    kinds = [("opened", "#1565c0"), ("closed", "#2e7d32"), ("reopened", "#ef6c00"), ("transferred", "#6a1b9a")]
    for axis, country in zip(axes.flat, shown, strict=False):
        part = flow[flow.country_code == country].sort_values("month")
        positions = list(range(len(part)))
        for i, (kind, colour) in enumerate(kinds):
            axis.bar(
                [p + (i - 1.5) * 0.2 for p in positions],
                _floats(part[kind]),  # a suppressed count draws no bar
                width=0.2,
                color=colour,
                label=kind,
            )
        caseload = axis.twinx()
        caseload.plot(
            positions, _floats(part.open_at_month_end), color="#212121", marker="o", markersize=3, label="open"
        )
        caseload.tick_params(labelsize=7)
        axis.set_xticks(positions, [pd.Timestamp(m).strftime("%b %y") for m in part.month], fontsize=7)
        axis.set_title(country, fontsize=10)
        axis.set_ylabel("cases in the month", fontsize=8)
        axis.tick_params(labelsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(
        handles + [caseload.get_lines()[0]], labels + ["open at month end"], loc="outside right center", fontsize=7
    )
    return _inline_svg(figure)


def _concern_service_heatmap(services: pd.DataFrame) -> str:
    """All countries: the share of children with each concern who received each service (implemented)."""
    part = services[(services.country_code == "ALL") & (services.dimension == "total")]
    if part.empty:
        return "<p class='note'>No services by concern are published.</p>"
    matrix = part.pivot(index="concern_category", columns="service_category", values="pct_served")
    matrix = matrix.loc[:, matrix.fillna(0).max() > 0]  # a service no child with any concern received
    if matrix.columns.empty:  # every cell suppressed or zero (a tiny home): nothing to draw
        return "<p class='note'>Every published cell of services by concern is suppressed or zero.</p>"
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(11, 0.42 * len(matrix) + 2.2), constrained_layout=True)
    values = matrix.to_numpy(dtype="float64", na_value=np.nan)
    image = axis.imshow(values, cmap="Blues", aspect="auto", vmin=0)
    axis.set_xticks(
        range(len(matrix.columns)), [c.replace("_", " ") for c in matrix.columns], rotation=40, ha="right", fontsize=8
    )
    axis.set_yticks(range(len(matrix.index)), [c.replace("_", " ") for c in matrix.index], fontsize=8)
    for (i, j), value in np.ndenumerate(values):
        label = "s" if np.isnan(value) else f"{value:.0f}"
        axis.text(j, i, label, ha="center", va="center", fontsize=7, color="white" if value > 50 else "#212121")
    figure.colorbar(image, ax=axis, label="% of children with the concern", shrink=0.8)
    return _inline_svg(figure)


def _run_detail(run: dict) -> str:
    if run["outcome"] == "published":
        return (run["publication_id"] or "")[:12]
    if run["failing_checks"]:
        return ", ".join(run["failing_checks"])
    return next(iter((run["error"] or "").splitlines()), "")[:80]


def _build_history(home: Path | None) -> str:
    from orchestration.automation.history import recent_runs

    runs = recent_runs(home, 10) if home else []
    if not runs:
        return "<p class='note'>No build recorded in this home's run history.</p>"
    rows = []
    for run in runs:
        cells = [
            run["finished_at"][:19].replace("T", " "),
            run["trigger"],
            run["partitions"] or "",
            run["outcome"],
            str(len(run["warnings"])),
            _run_detail(run),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in ("Finished (UTC)", "Started by", "Countries", "Outcome", "Warnings", "Publication or cause")
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _analyses_sections(groups: list[str], analyses: dict[str, pd.DataFrame]) -> str:
    summary, curve = analyses["mart_time_to_closure"], analyses["mart_time_to_closure_curve"]
    flow, services = analyses["mart_case_flow"], analyses["mart_services_by_concern"]
    if summary.empty:
        return ""
    return f"""<h2 id="time-to-closure">Time to closure, open cases counted</h2>
<p class="note">The review's mean duration counts closed cases only, so it understates how long children stay in care
while many cases are open. The Kaplan-Meier estimate counts open and transferred cases as still open when last seen
(censored at the export date): the share of cases still open month after month since registration, with its 95 %
band (exponential Greenwood), the median marked (red, dashed) and the review's mean over closed cases (grey, dotted).
The median's interval is read where the band crosses one half.</p>
{_survival_table(groups, summary)}{_survival_curves(groups, curve, summary)}
<h2 id="case-flow">Case flow, month by month</h2>
<p class="note">From the successive exports of each country: cases new in the month's export, closed, reopened and
transferred since the export before, and the open caseload at the month's end.</p>
{_case_flow(groups[1:], flow)}
<h2 id="services-by-concern">Services by concern</h2>
<p class="note">All countries: of the children with each protection concern, the percentage who received at least one
implemented service of each category ("s": suppressed).</p>
{_concern_service_heatmap(services)}"""


def render_report(published: Path, home: Path | None = None) -> str:
    with _PYPLOT_LOCK:  # after the warm-up, if it is still drawing
        return _render_report(published, home)


def _render_report(published: Path, home: Path | None = None) -> str:
    con = duckdb.connect(str(published), read_only=True)
    try:
        indicators = con.execute("select * from mart_indicators").df()
        differences = con.execute("select * from mart_sex_differences").df()
        quality = con.execute("select * from mart_data_quality").df()
        closures = con.execute(
            "select country_code, closure_outcome, pct from mart_services_care_closure where topic = 'closure_reason'"
        ).df()
        published_at = con.execute("select published_at from publication").fetchone()[0]
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        trend = (
            con.execute("select * from mart_data_quality_trend").df()
            if "mart_data_quality_trend" in tables
            else pd.DataFrame(columns=["check_kind"])
        )
        analyses = {  # published since the analyses beyond the review; an older file has none
            table: con.execute(f"select * from {table}").df() if table in tables else pd.DataFrame()
            for table in (
                "mart_time_to_closure",
                "mart_time_to_closure_curve",
                "mart_case_flow",
                "mart_services_by_concern",
            )
        }
    finally:
        con.close()
    countries = sorted(set(indicators.country_code) - {"ALL"})  # the publication's countries, however many
    durations = {c: _figure(indicators, "mean_case_duration_months", c) for c in ["ALL", *countries]}
    medians = {c: _figure(indicators, "median_case_duration_months", c) for c in ["ALL", *countries]}
    rule = policy()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Child protection case management: multi-country figures</title>
<style>{STYLE}</style></head><body>
<h1>Child protection case management in {len(countries)} countries</h1>
<p class="note">Built from the published marts of {published_at:%Y-%m-%d %H:%M} UTC. Figures cover children in scope
(registered {rule.study_start.year}-{rule.study_end.year}, aged 0-17 or unknown, duplicates resolved) in each country's
latest complete export. Cells with fewer than {rule.small_cell_limit + 1} children
({rule.sensitive_small_cell_limit + 1} for {", ".join(c.replace("_", " ") for c in rule.sensitive_categories)}) are
suppressed.
Report written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>
<h2>The review's findings, recomputed</h2>{_findings_table(countries, indicators)}
<h2>Sex differences in protection concerns</h2>
<p class="note">Prevalence among boys and girls with at least one concern; Pearson's chi-square, significant at 0.05
after a Benjamini-Hochberg correction across all countries and concerns.</p>{_sex_differences(countries, differences)}
<h2>Case duration by country</h2><p class="note">Mean months from registration to closure, closed cases.</p>
{_bar_chart(durations, "months")}<p class="note">Median</p>{_bar_chart(medians, "months")}
<h2>Closure outcomes</h2><p class="note">Share of closed cases by outcome of the closure reason.</p>
{_outcome_chart(countries, closures)}
<h2>Data quality</h2>
<p class="note">The review found closure fields recorded inconsistently. Rates of each defect (exports.md D1-D13) in the
latest export, over the records each rule applies to.</p>
{_closure_quality(countries, quality)}{_quality_table(countries, quality)}
<h2 id="quality-trend">Data quality, build after build</h2>
<p class="note">Each defect's rate (D1-D13) in each country's latest export at every build; a ring marks a rate
that jumped (at least doubled and rose by 1 point or more) since the build before, which the warning check
assert_quality_rates_did_not_jump reports.</p>
{_trend_small_multiples(countries, trend)}
{_analyses_sections(["ALL", *countries], analyses)}
<h2 id="recent-builds">Recent builds</h2>
<p class="note">From the run history ($CPWH_HOME/history.sqlite): every attempt, with its outcome.</p>
{_build_history(home)}
</body></html>
"""


def write_report(published: Path, out: Path, home: Path | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    temporary.write_text(render_report(published, home), encoding="utf-8")
    temporary.replace(out)
    return out

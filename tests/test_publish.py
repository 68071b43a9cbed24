"""Publishing: atomic swaps readers never notice, failed builds leave the published file alone,
and the report opens without any network."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime

import duckdb
import pytest

from orchestration.publish.publication import PUBLISHED_TABLES, PublishError, publish
from tests.conftest import copy_of_home, cpwh, headless_chromium

READER = textwrap.dedent(
    """
    import sys, time, duckdb
    import os
    path, stop, tables = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    reads, publications, deadline = 0, set(), time.time() + 600
    while not os.path.exists(stop) and time.time() < deadline:
        with duckdb.connect(path, read_only=True) as con:
            publication, expected = con.execute("select publication_id, table_rows from publication").fetchone()
            rows = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)
        if rows != expected:
            print(f"mixed state: {rows} rows, publication {publication} says {expected}")
            sys.exit(1)
        reads += 1
        publications.add(publication)
    print(reads, len(publications))
    """
)


@pytest.fixture(scope="module")
def home_copy(built_home, tmp_path_factory):
    """A copy of the shared built home: the tests below write its report, rebuild it or hold its lock."""
    return copy_of_home(built_home[0], tmp_path_factory.mktemp("publish"))


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_readers_never_see_a_half_written_file(home_copy, tmp_path):
    published, stop = home_copy / "published/marts.duckdb", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), str(stop), ",".join(PUBLISHED_TABLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    for _ in range(2):
        assert cpwh(["build"], home_copy).returncode == 0
    time.sleep(1)
    stop.touch()
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, out + err
    reads, publications = map(int, out.split())
    assert reads > 20 and publications >= 2, "the reader kept reading across the swaps"


@pytest.mark.slow
def test_a_failed_build_leaves_the_published_file(home_copy):
    published = home_copy / "published/marts.duckdb"
    before = _digest(published)
    holder = duckdb.connect(str(home_copy / "warehouse.duckdb"))  # another writer holds the warehouse
    try:
        run = cpwh(["build"], home_copy, CPWH_LOCK_WAIT_SECONDS="1")
    finally:
        holder.close()
    assert run.returncode == 1
    assert _digest(published) == before


def test_publish_refuses_a_warehouse_that_does_not_reconcile(home_copy, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(home_copy / "warehouse.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_rows__reconciled set is_balanced = false where country_code = 'MMR'")
    (tmp_path / "published").mkdir()
    shutil.copy(home_copy / "published/marts.duckdb", tmp_path / "published/marts.duckdb")
    before = _digest(tmp_path / "published/marts.duckdb")
    with pytest.raises(PublishError, match="reconcile"):
        publish(warehouse, tmp_path)
    assert _digest(tmp_path / "published/marts.duckdb") == before
    assert sorted(p.name for p in (tmp_path / "published").iterdir()) == ["marts.duckdb"]


def test_report_is_self_contained(home_copy):
    run = cpwh(["report"], home_copy)
    assert run.returncode == 0, run.stderr
    page = (home_copy / "reports/report.html").read_text(encoding="utf-8")
    for section in (
        "findings, recomputed",
        "Sex differences",
        "Case duration by country",
        "Closure outcomes",
        "Data quality",
        "<svg",
    ):
        assert section in page
    for external in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert external not in page, f"the report would fetch {external}"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_offline_in_headless_chromium(home_copy, tmp_path):
    assert cpwh(["report"], home_copy).returncode == 0
    screenshot = tmp_path / "report.png"
    headless_chromium(
        (home_copy / "reports/report.html").as_uri(),
        tmp_path / "profile",
        "--disable-quic",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,2000",
        f"--screenshot={screenshot}",
    )
    assert screenshot.stat().st_size > 50_000, "a page with tables and charts, not a blank one"


def test_cli_reads_the_published_marts(home_copy):
    run = cpwh(
        ["sql", "select count(*) as n from mart_indicators where country_code = 'ALL'", "--format", "json"], home_copy
    )
    assert run.returncode == 0 and '"n":' in run.stdout
    assert cpwh(["sql", "select * from fct_cases"], home_copy).returncode == 1, "no record-level table published"
    dq = cpwh(["dq"], home_copy)
    assert dq.returncode == 0 and "D13" in dq.stdout and "NGA" in dq.stdout


def test_publish_refuses_a_copy_that_shows_small_cells(home_copy, tmp_path, monkeypatch):
    import orchestration.publish.publication as publishing

    leaky = dict(publishing.PUBLISHED_TABLES)
    leaky["mart_indicators"] = leaky["mart_indicators"].replace(
        "case when suppressed then null else value end", "value"
    )
    monkeypatch.setattr(publishing, "PUBLISHED_TABLES", leaky)
    (tmp_path / "published").mkdir()
    shutil.copy(home_copy / "published/marts.duckdb", tmp_path / "published/marts.duckdb")
    before = _digest(tmp_path / "published/marts.duckdb")
    with pytest.raises(PublishError, match="suppressed_values_hidden"):
        publish(home_copy / "warehouse.duckdb", tmp_path)
    assert _digest(tmp_path / "published/marts.duckdb") == before


def test_each_build_writes_the_dbt_docs_as_one_offline_page(home_copy, tmp_path):
    page = (home_copy / "reports/dbt_docs.html").read_text(encoding="utf-8")
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    fetched = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']*""", markup)
    assert not fetched, f"the page would fetch {fetched[:3]}"
    # dbt's page carries a tracker that it loads only when the project allowed usage statistics.
    assert re.search(r'"send_anonymous_usage_stats":\s*false', page), "the page would load dbt's tracker"
    for mart in PUBLISHED_TABLES:
        assert f'"model.cpwh.{mart}"' in page, f"{mart} is not documented"
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    # Rendered with the network off, the page shows the mart with its enforced contract (the app
    # builds it from the manifest and catalog embedded in the page; the scripts are left out here).
    dom = headless_chromium(
        (home_copy / "reports/dbt_docs.html").as_uri() + "#!/model/model.cpwh.mart_indicators",
        tmp_path / "profile",
        "--proxy-server=127.0.0.1:9",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ).stdout
    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown))
    assert "mart_indicators table" in shown and "Contract Enforced" in shown, shown[:2000]


def test_the_report_waits_for_matplotlibs_warm_up_and_draws_the_same(built_home, monkeypatch):
    """The dbt step warms matplotlib up in a background thread (html_report.warm_up); a report
    started while it is still drawing waits for it (pyplot's figures are global), and is the same page."""
    import threading

    from matplotlib import pyplot

    from orchestration.report import html_report

    class Clock(datetime):  # "Report written" at a fixed minute: the two pages may straddle a real one
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, 12, 0, tzinfo=tz)

    monkeypatch.setattr(html_report, "datetime", Clock)
    home = built_home[0]
    published = home / "published" / "marts.duckdb"
    alone = html_report.render_report(published, home)
    drawing, finish, order = threading.Event(), threading.Event(), []
    pyplot_of, render = html_report._pyplot, html_report._render_report

    def slow_pyplot():
        if threading.current_thread().name == "warm-up":
            drawing.set()
            finish.wait(30)
            order.append("warm-up drew")
        return pyplot_of()

    def recorded_render(*args):
        order.append("report started")
        return render(*args)

    monkeypatch.setattr(html_report, "_pyplot", slow_pyplot)
    monkeypatch.setattr(html_report, "_render_report", recorded_render)
    warm_up = threading.Thread(target=html_report.warm_up, name="warm-up")
    warm_up.start()
    assert drawing.wait(30)
    pages = []
    report = threading.Thread(target=lambda: pages.append(html_report.render_report(published, home)))
    report.start()
    time.sleep(0.5)  # long enough for a report that does not wait to start
    finish.set()
    warm_up.join(30)
    report.join(60)
    assert order == ["warm-up drew", "report started"]
    assert pages == [alone]
    assert not pyplot.get_fignums()  # no figure left open

"""Reliability findings of issue 9, each with the test that would have caught it: every failure while
reading an export is in the ledger and blocks publication, a fixed export unblocks, guards refuse a
publication that would silently lose a country, and the command line fails in one clear line."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import CountryLoadError, load_country
from orchestration.ingest.profiles import get_profile
from orchestration.quality.suites import load_suites, read_batch, run_suite
from tests.conftest import KEY, copy_of_home, cpwh, synthetic_exports

EXPORT = "2023-12-31"


@pytest.fixture(scope="module")
def source(tiny_export) -> Path:
    return tiny_export


def _landing(source: Path, tmp_path: Path, country: str, export: str = EXPORT) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(source / country / EXPORT, landing / country / export)
    return landing


def _load(tmp_path: Path, landing: Path, country: str):
    """Load the country; return its latest ledger row per folder and the error text, if any."""
    database = tmp_path / "warehouse.duckdb"
    try:
        load_country(database, landing, get_profile(country))
        error = ""
    except CountryLoadError as failure:
        error = str(failure)
    with duckdb.connect(str(database), read_only=True) as con:
        latest = dict(
            con.execute(
                "select export_folder, status from (select *, row_number() over (partition by export_folder"
                " order by loaded_at desc) as attempt from raw.export_loads where country = ?) where attempt = 1",
                [country],
            ).fetchall()
        )
    return latest, error, database


def _ledger_check_passes(database: Path) -> bool:
    [suite] = [s for s in load_suites() if s.name == "raw__export_loads"]
    return all(outcome.passed for outcome in run_suite(suite, read_batch(database, suite)))


def _rewrite_csv(path: Path, country: str, change) -> None:
    spec = get_profile(country).files[0]
    with open(path, encoding=spec.encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=spec.delimiter))
    rows = change(rows)
    with open(path, "w", encoding=spec.encoding, newline="") as handle:
        csv.writer(handle, delimiter=spec.delimiter).writerows(rows)


# Finding 1: an error the loader did not expect is recorded, never escapes the ledger.
def test_a_services_section_that_is_not_a_list_is_recorded(source, tmp_path):
    landing = _landing(source, tmp_path, "UKR")
    path = landing / "UKR" / EXPORT / "cases.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record["services_section"] = 5
    lines[3] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    latest, error, database = _load(tmp_path, landing, "UKR")
    assert latest == {EXPORT: "failed"}
    assert "cases.jsonl: line 4" in error and "services_section is a list of objects" in error
    assert not _ledger_check_passes(database)


def test_a_column_named_like_a_lineage_column_is_refused(source, tmp_path):
    landing = _landing(source, tmp_path, "BGD")
    _rewrite_csv(
        landing / "BGD" / EXPORT / "cases.csv",
        "BGD",
        lambda rows: [[*rows[0], "_source_row"], *[[*r, "7"] for r in rows[1:]]],
    )
    latest, error, _ = _load(tmp_path, landing, "BGD")
    assert latest == {EXPORT: "failed"} and "lineage columns: _source_row" in error


def test_columns_differing_only_in_case_are_refused(source, tmp_path):
    landing = _landing(source, tmp_path, "MMR")
    _rewrite_csv(
        landing / "MMR" / EXPORT / "cases.csv",
        "MMR",
        lambda rows: [[*rows[0], rows[0][1].upper()], *[[*r, ""] for r in rows[1:]]],
    )
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest == {EXPORT: "failed"} and "appear more than once" in error


def test_json_keys_differing_only_in_case_are_refused(source, tmp_path):
    landing = _landing(source, tmp_path, "UKR")
    path = landing / "UKR" / EXPORT / "cases.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["SEX"] = record.get("sex")
    lines[0] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    latest, error, _ = _load(tmp_path, landing, "UKR")
    assert latest == {EXPORT: "failed"} and "line 1" in error and "appear more than once" in error


# Finding 2: a fixed export unblocks with no manual step; a failure can always be superseded.
def test_putting_the_good_files_back_unblocks(source, tmp_path):
    landing = _landing(source, tmp_path, "BGD")
    cases = landing / "BGD" / EXPORT / "cases.csv"
    good = cases.read_bytes()
    _, _, database = _load(tmp_path, landing, "BGD")
    cases.write_bytes(good[: len(good) // 3])
    latest, error, _ = _load(tmp_path, landing, "BGD")
    assert latest == {EXPORT: "failed"} and error
    assert not _ledger_check_passes(database)
    cases.write_bytes(good)
    latest, error, _ = _load(tmp_path, landing, "BGD")
    assert latest == {EXPORT: "loaded"} and not error
    assert _ledger_check_passes(database)


def test_a_badly_named_folder_renamed_back_no_longer_blocks(source, tmp_path):
    landing = _landing(source, tmp_path, "MMR", export="latest")
    latest, error, database = _load(tmp_path, landing, "MMR")
    assert latest == {"latest": "failed"} and "the name is not a date" in error
    (landing / "MMR" / "latest").rename(landing / "MMR" / EXPORT)
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest == {"latest": "withdrawn", EXPORT: "loaded"} and not error
    assert _ledger_check_passes(database)


# Finding 4: an export dated in the future is refused.
def test_an_export_dated_after_today_is_refused(source, tmp_path):
    landing = _landing(source, tmp_path, "MMR", export="2099-12-31")
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest == {"2099-12-31": "failed"} and "is after today" in error


# Finding 6: an export with no case rows is refused and the country keeps its rows.
def test_a_header_only_cases_file_is_refused_and_keeps_the_good_rows(source, tmp_path):
    landing = _landing(source, tmp_path, "LBN")
    _, _, database = _load(tmp_path, landing, "LBN")
    with duckdb.connect(str(database), read_only=True) as con:
        before = con.execute("select count(*) from raw.lbn__cases").fetchone()[0]
    _rewrite_csv(landing / "LBN" / EXPORT / "cases.csv", "LBN", lambda rows: rows[:1])
    latest, error, _ = _load(tmp_path, landing, "LBN")
    assert latest == {EXPORT: "failed"} and "no case rows" in error
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from raw.lbn__cases").fetchone()[0] == before > 0


# Finding 7: the real cause of a CSV error is said (and no row is quoted).
def test_an_oversized_field_names_the_line_size_limit(source, tmp_path):
    landing = _landing(source, tmp_path, "BGD")
    _rewrite_csv(
        landing / "BGD" / EXPORT / "cases.csv",
        "BGD",
        lambda rows: [rows[0], *rows[1:10], [*rows[10][:-1], "x" * 5_000_000], *rows[11:]],
    )
    latest, error, _ = _load(tmp_path, landing, "BGD")
    assert latest == {EXPORT: "failed"}
    assert "line 11" in error and "a line is at most" in error and "xxxx" not in error


def test_a_link_out_of_the_landing_zone_is_not_followed(source, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(source / "MMR" / EXPORT, outside)
    landing = tmp_path / "landing"
    (landing / "MMR").mkdir(parents=True)
    (landing / "MMR" / EXPORT).symlink_to(outside, target_is_directory=True)
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest == {EXPORT: "failed"} and "leads outside the landing zone" in error
    folder = landing / "MMR" / "2023-11-30"
    folder.mkdir()
    (folder / "_READY").touch()
    (folder / "cases.csv").symlink_to(outside / "cases.csv")
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest["2023-11-30"] == "failed" and "cases.csv" in error
    loop = landing / "MMR" / "2023-10-31"
    loop.mkdir()
    (loop / "_READY").touch()
    (loop / "cases.csv").symlink_to(loop / "cases.csv")  # a link to itself: resolving it never ends
    latest, error, _ = _load(tmp_path, landing, "MMR")
    assert latest["2023-10-31"] == "failed" and "2023-10-31" in error


# Finding 3: a country that would silently vanish from the published figures is refused.
@pytest.mark.slow
def test_a_country_losing_its_children_is_not_published_unless_accepted(source, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(source / "MMR" / EXPORT, home / "landing" / "MMR" / "2023-11-30")
    first = cpwh(["build", "--countries", "MMR"], home)
    assert first.returncode == 0, first.stderr[-2000:]
    published = (home / "published/marts.duckdb").read_bytes()
    broken = home / "landing" / "MMR" / EXPORT
    shutil.copytree(source / "MMR" / EXPORT, broken)
    column = None

    def unreadable_dates(rows):
        nonlocal column
        column = rows[0].index("registration_date")
        return [rows[0], *[[*r[:column], "not a date", *r[column + 1 :]] for r in rows[1:]]]

    _rewrite_csv(broken / "cases.csv", "MMR", unreadable_dates)
    refused = cpwh(["build", "--countries", "MMR"], home)
    assert refused.returncode == 1
    assert "MMR (export 2023-12-31): children in scope would fall from" in refused.stderr
    assert "--accept-drop MMR" in refused.stderr
    assert (home / "published/marts.duckdb").read_bytes() == published, "the old publication stays"
    accepted = cpwh(["build", "--countries", "MMR", "--accept-drop", "MMR"], home)
    assert accepted.returncode == 0, accepted.stderr[-2000:]


# Finding 5 and 9: the command line fails early, in one line, without a traceback.
def test_a_missing_landing_zone_fails_before_any_work(tmp_path):
    run = cpwh(["build", "--landing", str(tmp_path / "nowhere")], tmp_path)
    assert run.returncode == 1 and "does not exist" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "warehouse.duckdb").exists()


def test_generate_refuses_zero_snapshots(tmp_path):
    run = synthetic_exports(["--snapshots", "0"], tmp_path)
    assert run.returncode == 2 and "must be 1 or more" in run.stderr


@pytest.mark.slow
def test_sql_reads_no_file_and_writes_none(source, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(source / "MMR" / EXPORT, home / "landing" / "MMR" / EXPORT)
    build = cpwh(["build", "--countries", "MMR"], home)
    assert build.returncode == 0 and build.stdout == "", "dbt's output goes to the log, not the console"
    [log] = (home / "logs").glob("build-*.log")
    assert "dbt's full output" in build.stderr and "Completed successfully" in log.read_text()
    assert (log.stat().st_mode & 0o777) == 0o600
    raw = home / "landing" / "MMR" / EXPORT / "cases.csv"
    for query in (f"select * from read_csv('{raw}')", f"copy (select 1) to '{tmp_path / 'x.csv'}'"):
        run = cpwh(["sql", query], home)
        assert run.returncode == 1 and "disabled by configuration" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "x.csv").exists()
    staging = cpwh(["sql", "--warehouse", "select count(distinct case_key) as n from staging.stg_mmr__cases"], home)
    assert staging.returncode == 0 and int(staging.stdout.split()[-1]) > 0
    env = {"CPWH_HOME": str(home), "CPWH_PSEUDONYM_KEY": KEY}
    pipe = subprocess.run(
        f"{sys.executable} -m orchestration.cli sql 'select * from mart_indicators' --format csv | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        timeout=120,
    )
    assert pipe.stdout.startswith("indicator_id") and "Traceback" not in pipe.stderr and "BrokenPipe" not in pipe.stderr


def test_the_home_and_what_is_written_in_it_are_owner_only(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)  # a home made before this rule: tightened on the next command that writes
    run = synthetic_exports(["--scale", "0.001", "--countries", "MMR"], home, CPWH_PSEUDONYM_KEY="")
    assert run.returncode == 0, run.stderr
    assert home.stat().st_mode & 0o777 == 0o700
    written = list(home.rglob("*"))
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written), "nothing readable by others"


# Every failure of the command line: one line on standard error, a documented exit code, no traceback.
def test_every_failure_is_one_line_with_a_documented_exit_code(tmp_path):
    home = tmp_path / "home"
    (home / "published").mkdir(parents=True)
    (home / "published" / "marts.duckdb").write_text("not a database")
    (home / "landing-file").write_text("x")
    cases = [
        (["build", "--countries", "XXX"], 2, "unknown country code"),
        (["frobnicate"], 2, "invalid choice"),
        (["build", "--landing", str(home / "landing-file")], 1, "is not a folder"),
        (["sql", "select 1", "--home", str(tmp_path / "empty")], 1, "no published marts"),
        (["sql", "--warehouse", "select 1", "--home", str(tmp_path / "empty")], 1, "no warehouse"),
        (["sql", "select 1"], 1, "not a valid DuckDB database file"),
        (["dq"], 1, "not a valid DuckDB database file"),
        (["report"], 1, "not a valid DuckDB database file"),
    ]
    generator = [(["--scale", "0"], 2, "between 0.001 and 100"), (["--defects", "D99=2"], 1, "CODE=RATE")]
    runs = [(args, code, said, cpwh(args, home)) for args, code, said in cases]
    runs += [(args, code, said, synthetic_exports(args, home)) for args, code, said in generator]
    for args, code, said, run in runs:
        lines = run.stderr.strip().splitlines()
        assert run.returncode == code, (args, run.returncode, run.stderr)
        assert len(lines) == 1 and said in lines[0] and lines[0].startswith("cpwh"), (args, run.stderr)
        assert "Traceback" not in run.stderr + run.stdout
    logs = sorted((home / "logs").glob("error-*.log"))
    assert logs and all("Traceback" in log.read_text() and log.stat().st_mode & 0o777 == 0o600 for log in logs)


READER = """
import json, sys, time
from pathlib import Path
import duckdb

published, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reads, failures, mixed, seen = 0, [], 0, set()
while not stop.exists():
    try:
        con = duckdb.connect(str(published), read_only=True)
        try:
            publication_id, table_rows = con.execute("select publication_id, table_rows from publication").fetchone()
            tables = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where table_name like 'mart_%' or table_name like 'dim_%'"
            ).fetchall()]
            rows = sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables)
        finally:
            con.close()
        reads += 1
        seen.add(publication_id)
        mixed += rows != table_rows
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}"[:200])
    time.sleep(0.02)
out.write_text(json.dumps({"reads": reads, "failures": failures, "mixed": mixed, "publications": sorted(seen)}))
"""


def _published_rows(path: Path, skip=("publication", "mart_data_quality_trend")) -> dict:
    """Every published table's rows, exactly as stored (no rounding), sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {t: sorted(con.execute(f'select * from "{t}"').fetchall(), key=repr) for t in tables if t not in skip}


# Concurrency and idempotence: readers query the published marts in loops while the same exports
# are built again; no read fails or sees a mixture, and the new publication equals the old one exactly.
@pytest.mark.slow
def test_readers_during_a_rebuild_and_the_rebuild_is_identical(built_home, tmp_path):
    home = copy_of_home(built_home[0], tmp_path)
    published = home / "published" / "marts.duckdb"
    before = _published_rows(published)
    script, stop = tmp_path / "reader.py", tmp_path / "stop"
    script.write_text(READER)
    readers = [
        subprocess.Popen([sys.executable, str(script), str(published), str(stop), str(tmp_path / f"reads{k}.json")])
        for k in range(2)
    ]
    try:
        build = cpwh(["build"], home)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    assert build.returncode == 0, build.stderr[-3000:]
    outcomes = [json.loads((tmp_path / f"reads{k}.json").read_text()) for k in range(2)]
    reads = sum(o["reads"] for o in outcomes)
    assert all(o["failures"] == [] and o["mixed"] == 0 for o in outcomes), outcomes
    assert len({p for o in outcomes for p in o["publications"]}) == 2, "readers saw the old and the new publication"
    assert _published_rows(published) == before, "the same exports built twice publish identical marts"
    print(f"concurrent reads during the rebuild: {reads}")

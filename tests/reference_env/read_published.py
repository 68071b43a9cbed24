"""Open a published file with the reference environment's DuckDB (1.4, the long-term-support
release) and print every table's rows as JSON: {"version": ..., "tables": {name: [[...], ...]}}."""

import json
import sys

import duckdb


def main(path: str) -> None:
    con = duckdb.connect(path, read_only=True)
    tables = [t for (t,) in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
    rows = {
        t: [[str(v) if v is not None else None for v in row] for row in con.execute(f'select * from "{t}"').fetchall()]
        for t in tables
    }
    json.dump({"version": duckdb.__version__, "tables": rows}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

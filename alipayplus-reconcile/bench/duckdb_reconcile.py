"""Runs duckdb.sql (issue 24's reference) for `cargo xtask bench-reconcile`.

    python duckdb_reconcile.py SQL REPORT LEDGER THREADS

Prints one JSON object: the query's result columns, the DuckDB version and the seconds the
query took (measured around the query alone: interpreter start and `import duckdb` excluded).
"""
import json
import sys
import time

import duckdb


def main():
    sql_path, report, ledger, threads = sys.argv[1:5]
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    quote = lambda s: "'" + s.replace("'", "''") + "'"
    con.execute(f"SET VARIABLE report = {quote(report)}")
    con.execute(f"SET VARIABLE ledger = {quote(ledger)}")
    with open(sql_path) as f:
        sql = f.read()
    start = time.perf_counter()
    row = con.execute(sql).fetchone()
    seconds = time.perf_counter() - start
    out = {d[0]: v for d, v in zip(con.description, row)}
    out["seconds"] = seconds
    out["version"] = duckdb.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What SQLite itself needs to apply N migrations one commit each, with nothing of a
migration tool around it: the floor under any tool's "upgrade from empty" on SQLite.

Python's sqlite3 module, in one process, runs exactly the statements `migrate` sends
per migration (`BEGIN IMMEDIATE`, one `CREATE TABLE`, the version row, the history
row, `COMMIT`), in the default (`DELETE`) journal mode and in `TRUNCATE`, on an
in-memory database and on a file in the given folders. The module's own cost per
statement is a few microseconds, so these figures are slightly above SQLite's own.

    python3 scripts/sqlite_floor.py                 # 1,000 migrations, /dev/shm and /tmp
    python3 scripts/sqlite_floor.py -n 200 --dirs /dev/shm --runs 3
"""

import argparse
import os
import sqlite3
import statistics
import tempfile
import time

VERSION_DDL = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)
HISTORY_DDL = (
    "CREATE TABLE alembic_version_history (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "revision VARCHAR(32) NOT NULL, direction VARCHAR(16) NOT NULL, checksum VARCHAR(64), "
    "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, duration_ms BIGINT NOT NULL DEFAULT 0)"
)


def migrate(path, n, journal):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute(f"PRAGMA journal_mode = {journal}")
    c.execute(VERSION_DDL)
    c.execute(HISTORY_DDL)
    started = time.perf_counter()
    previous = None
    for i in range(1, n + 1):
        rev = f"r{i:011d}"
        c.execute("BEGIN IMMEDIATE")
        c.execute(f"CREATE TABLE t{i:05d} (id INT PRIMARY KEY, name VARCHAR(50))")
        if previous:
            c.execute("UPDATE alembic_version SET version_num = ? WHERE version_num = ?", (rev, previous))
        else:
            c.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (rev,))
        c.execute(
            "INSERT INTO alembic_version_history (revision, direction, checksum, duration_ms) VALUES (?, ?, ?, ?)",
            (rev, "upgrade", "ab" * 32, 0),
        )
        c.execute("COMMIT")
        previous = rev
    took = time.perf_counter() - started
    c.close()
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="migrations (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per case; the median is printed")
    ap.add_argument("--dirs", default="/dev/shm," + tempfile.gettempdir(), help="folders for the database file")
    args = ap.parse_args()
    print(f"{args.n} migrations, one commit each; median of {args.runs} runs; SQLite {sqlite3.sqlite_version}")
    print("| database | journal | time |")
    print("|---|---|---:|")
    cases = [(":memory:", "memory")] + [(d, j) for d in args.dirs.split(",") for j in ("delete", "truncate")]
    for where, journal in cases:
        times = []
        for _ in range(args.runs):
            if where == ":memory:":
                times.append(migrate(":memory:", args.n, "memory"))
                continue
            with tempfile.TemporaryDirectory(dir=where) as d:
                times.append(migrate(os.path.join(d, "floor.db"), args.n, journal))
        print(f"| {where} | {journal} | {statistics.median(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()

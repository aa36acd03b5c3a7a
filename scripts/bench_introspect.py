#!/usr/bin/env python3
"""Whole-process timings of live introspection: `migrate schema dump --to DIR --force`
on a database holding N tables (1,000 by default; 10 columns, 2 indexes and 1 foreign
key each, the schema of scripts/bench_check_objects.py), medians of K runs after one
warm-up run.

Where the time goes, per binary:
  - wall: the whole process, as a user waits for it;
  - cpu: the process's own CPU time (user + system), the rest of the wall time being
    spent waiting on the server (or for a core on a loaded machine);
  - fixed: the same command on an empty database (start-up, connecting, writing an
    empty dump), so that wall - fixed is what the N tables cost: introspection and
    writing the dump.

Several `--bin` are run in turn (a, b, a, b, ...) because this machine's speed drifts,
which is how a change is compared with the binary before it.

    python3 scripts/bench_introspect.py --db postgres      # MIGRATE_TEST_POSTGRES_URL
    python3 scripts/bench_introspect.py --db mysql         # MIGRATE_TEST_MYSQL_URL
    python3 scripts/bench_introspect.py --db sqlite
    python3 scripts/bench_introspect.py --db postgres --runs 11 \\
        --bin /work/main/target/release/migrate --bin target/release/migrate
"""

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from bench_check_objects import drop_database, fresh_database, table_sql  # noqa: E402


def load(db, url, sql):
    """Creates the schema: one transaction on PostgreSQL, one client call on MariaDB."""
    if db == "postgres":
        subprocess.run(
            ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", "-"],
            input=sql,
            text=True,
            check=True,
            capture_output=True,
        )
    elif db == "mysql":
        rest = url.split("://", 1)[1]
        host = rest.split("@", 1)[1].split(":", 1)[0].split("/", 1)[0]
        name = rest.rsplit("/", 1)[1]
        subprocess.run(
            ["mariadb", "-h", host, "-u", "root", name],
            input=sql,
            text=True,
            check=True,
            capture_output=True,
        )
    else:
        con = sqlite3.connect(url[len("sqlite://") :])
        con.executescript(sql)
        con.close()


def timed(cmd, cwd, env):
    """Wall and CPU seconds of one run of `cmd`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["postgres", "mysql", "sqlite"], default="postgres")
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--bin",
        action="append",
        help="a migrate binary; repeat to compare (default: build the release one)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the databases (and reuse them next time)")
    args = ap.parse_args()

    if args.bin:
        bins = [os.path.abspath(b) for b in args.bin]
    else:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        bins = [os.path.join(target, "release", "migrate")]
    admin = {
        "postgres": os.environ.get("MIGRATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        "mysql": os.environ.get("MIGRATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    }.get(args.db, "")

    work = tempfile.mkdtemp(prefix="bench_introspect_")
    sqlite_dir = os.path.join(tempfile.gettempdir(), "bench_introspect_sqlite") if args.keep else work
    os.makedirs(sqlite_dir, exist_ok=True)
    full_name, empty_name = f"bench_introspect_{args.tables}", "bench_introspect_empty"
    try:
        urls = {}
        for name, n in ((full_name, args.tables), (empty_name, 0)):
            marker = os.path.join(tempfile.gettempdir(), f"{name}.{args.db}.loaded")
            if args.keep and os.path.exists(marker):
                urls[name] = (
                    f"sqlite://{sqlite_dir}/{name}.db" if args.db == "sqlite" else f"{admin.rsplit('/', 1)[0]}/{name}"
                )
                continue
            urls[name] = fresh_database(args.db, admin, name, sqlite_dir)
            started = time.perf_counter()
            load(args.db, urls[name], "".join(table_sql(i, args.db) for i in range(n)))
            if n:
                print(f"loaded {n} tables in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            if args.keep:
                open(marker, "w").close()

        env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "cache"))
        out = os.path.join(work, "dump")

        def dump(b, name):
            return timed([b, "--database-url", urls[name], "schema", "dump", "--to", out, "--force"], work, env)

        for b in bins:  # warm-up, and a check that the dump holds every table
            dump(b, empty_name)
            dump(b, full_name)
            written = "".join(open(os.path.join(out, f)).read() for f in os.listdir(out) if f.endswith(".sql"))
            tables = written.count("CREATE TABLE")
            if tables != args.tables:
                sys.exit(f"{b}: the dump holds {tables} CREATE TABLE, not {args.tables}")
        times = {(b, kind): [] for b in bins for kind in ("full", "empty")}
        for _ in range(args.runs):
            for b in bins:
                times[(b, "empty")].append(dump(b, empty_name))
                times[(b, "full")].append(dump(b, full_name))

        print(f"`migrate schema dump`, {args.tables} tables on {args.db}, medians of {args.runs} runs:")
        for b in bins:
            full, empty = times[(b, "full")], times[(b, "empty")]
            wall = statistics.median(t[0] for t in full)
            cpu = statistics.median(t[1] for t in full)
            fixed = statistics.median(t[0] for t in empty)
            print(f"  {b}")
            print(
                f"    wall {wall * 1000:.0f} ms (cpu {cpu * 1000:.0f} ms), fixed {fixed * 1000:.0f} ms, "
                f"{args.tables} tables cost {(wall - fixed) * 1000:.0f} ms"
            )
            print(f"    runs {[round(t[0] * 1000) for t in full]}")
    finally:
        if not args.keep:
            for name in (full_name, empty_name):
                drop_database(args.db, admin, name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What a scratch database costs on a server: create, load, drop.

The schema: N tables (1,000 by default), each with 10 columns, 2 indexes and 1 foreign
key (the generator of bench_schema.py, for PostgreSQL or MariaDB).

    python3 scripts/bench_scratch.py server --db postgres
    python3 scripts/bench_scratch.py server --db mysql
    python3 scripts/bench_scratch.py command --db postgres --before OLD_BINARY

`server` times the steps with psql / mysql alone: `CREATE DATABASE` (PostgreSQL: both
strategies), the load as migrations would run it (one transaction of 30 statements
per migration; `synchronous_commit` on and off on PostgreSQL) and `DROP DATABASE`.

`command` times `migrate diff --from database --to schema` (one scratch, loaded with
the declared schema) through the release binary of this tree, and of `--before` when
given, paired; and how long after each run its scratch database is still on the server.
The URLs: MIGRATE_TEST_POSTGRES_URL, MIGRATE_TEST_MYSQL_URL.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_schema import mysql_args, mysql_client, schema_sql  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG = os.environ.get("MIGRATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
MY = os.environ.get("MIGRATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def schema(db, n):
    return schema_sql(n, db, False)


def with_db(url, name):
    base, _, query = url.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{head}/{name}" + (f"?{query}" if query else "")


def sql(db, statement, database=None):
    if db == "postgres":
        cmd = ["psql", with_db(PG, database) if database else PG, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", statement]
    else:
        cmd = [mysql_client(), *mysql_args(MY)] + ([database] if database else []) + ["-N", "-e", statement]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{statement[:80]}: {r.stderr}")
    return r.stdout.strip()


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def load(db, name, text, sync):
    """One transaction per 30 statements (ten tables), as a migration each."""
    statements = [s.strip() + ";" for s in text.split(";\n") if s.strip()]
    script = []
    if db == "postgres":
        script.append(f"SET synchronous_commit = {sync};")
    for i in range(0, len(statements), 30):
        script.append("BEGIN;" if db == "postgres" else "START TRANSACTION;")
        script.extend(statements[i : i + 30])
        script.append("COMMIT;")
    body = "\n".join(script)
    if db == "postgres":
        cmd = ["psql", with_db(PG, name), "-q", "-v", "ON_ERROR_STOP=1"]
    else:
        cmd = [mysql_client(), *mysql_args(MY)] + [name]
    r = subprocess.run(cmd, input=body, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)


def server(args):
    text = schema(args.db, args.tables)
    variants = (
        [("WAL_LOG", "on"), ("WAL_LOG", "off"), ("FILE_COPY", "off")]
        if args.db == "postgres"
        else [(None, None)]
    )
    for run in range(args.runs):
        for strategy, sync in variants:
            name = "bench_scratch_server"
            drop = f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if args.db == "postgres" else "")
            sql(args.db, drop)
            create = f"CREATE DATABASE {name}" + (f" STRATEGY {strategy}" if strategy else "")
            c = timed(lambda: sql(args.db, create))
            ld = timed(lambda: load(args.db, name, text, sync))
            d = timed(lambda: sql(args.db, drop))
            label = f"strategy={strategy} synchronous_commit={sync}" if strategy else "mariadb"
            print(f"run {run + 1} {label}: create {c:.3f} s, load {ld:.3f} s, drop {d:.3f} s", flush=True)


def scratches(db, pid):
    like = f"migrate\\\\_scratch\\\\_{pid}\\\\_%"
    if db == "postgres":
        q = f"SELECT count(*) FROM pg_database WHERE datname LIKE E'{like}'"
    else:
        q = f"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{like}'"
    return int(sql(db, q))


def command(args):
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binaries = [("this tree", os.path.join(target, "release", "migrate"))]
    if args.before:
        binaries.insert(0, ("before", args.before))
    work = tempfile.mkdtemp(prefix="bench_scratch_")
    try:
        name = "bench_scratch_target"
        admin = PG if args.db == "postgres" else MY
        sql(args.db, f"DROP DATABASE IF EXISTS {name}")
        sql(args.db, f"CREATE DATABASE {name}")
        url = with_db(admin, name)
        env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "cache"))
        project = os.path.join(work, "project")
        os.makedirs(os.path.join(project, "schema"))
        subprocess.run([binaries[-1][1], "init", "migrations"], cwd=project, env=env, check=True, capture_output=True)
        with open(os.path.join(project, "migrate.toml"), "a") as f:
            f.write('\nschema_location = "schema"\n')
        with open(os.path.join(project, "schema", "tables.sql"), "w") as f:
            f.write(schema(args.db, args.tables))
        times = {label: [] for label, _ in binaries}
        lingers = {label: [] for label, _ in binaries}
        for run in range(args.runs + 1):
            for label, binary in binaries:
                start = time.perf_counter()
                p = subprocess.Popen(
                    [binary, "--database-url", url, "-q", "diff", "--from", "database", "--to", "schema"],
                    cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                _, err = p.communicate()
                took = time.perf_counter() - start
                if p.returncode != 0:
                    sys.exit(f"{label}: exit {p.returncode}: {err}")
                while scratches(args.db, p.pid):
                    time.sleep(0.05)
                linger = time.perf_counter() - start - took
                if run > 0:  # the first round warms caches
                    times[label].append(took)
                    lingers[label].append(linger)
                print(f"run {run} {label}: {took:.3f} s, scratch gone {linger:.3f} s after exit", flush=True)
        for label, _ in binaries:
            print(
                f"{label}: median {statistics.median(times[label]):.3f} s over {args.runs} runs "
                f"{[round(t, 2) for t in times[label]]}; scratch there after exit "
                f"{[round(t, 2) for t in lingers[label]]} s"
            )
        sql(args.db, f"DROP DATABASE IF EXISTS {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "command"])
    ap.add_argument("--db", choices=["postgres", "mysql"], default="postgres")
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", help="another migrate binary to time beside this tree's")
    args = ap.parse_args()
    server(args) if args.mode == "server" else command(args)


if __name__ == "__main__":
    main()

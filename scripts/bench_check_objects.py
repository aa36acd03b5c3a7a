#!/usr/bin/env python3
"""What triggers and functions cost `migrate check`: whole processes on a schema of N
tables (1,000 by default; 10 columns, 2 indexes, 1 foreign key each), paired against
the same schema with one function and one trigger per table (on SQLite, which has no
stored functions, one trigger per table).

Each variant is a project whose one migration creates the schema and whose declared
schema is the same DDL, and a live database at head: `check` reads the live database,
replays the migration into a scratch database, loads the declared schema into another
and compares the three. Runs alternate (plain, objects, plain, objects...) because this
machine's speed drifts; "cold" runs start from an empty cache folder
(`MIGRATE_CACHE_DIR`), "warm" ones keep it. Budget: objects/plain at most 1.5.

    python3 scripts/bench_check_objects.py                  # PostgreSQL at MIGRATE_TEST_POSTGRES_URL
    python3 scripts/bench_check_objects.py --db sqlite
    python3 scripts/bench_check_objects.py --db mysql       # MIGRATE_TEST_MYSQL_URL
    python3 scripts/bench_check_objects.py --tables 200 --runs 3 --bin target/debug/migrate
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
from bench_schema import migrate_binary, server_urls  # noqa: E402



def table_sql(i, db):
    ident = {"postgres": "SERIAL PRIMARY KEY", "mysql": "INTEGER AUTO_INCREMENT PRIMARY KEY"}.get(
        db, "INTEGER PRIMARY KEY"
    )
    ref = i - 1 if i > 0 else 0
    return (
        f"CREATE TABLE t{i} (\n"
        f"    id {ident},\n"
        f"    ref_id INTEGER REFERENCES t{ref} (id),\n"
        f"    name VARCHAR(100) NOT NULL,\n"
        f"    email VARCHAR(200),\n"
        f"    qty INTEGER NOT NULL DEFAULT 0,\n"
        f"    price NUMERIC(10, 2),\n"
        f"    note TEXT,\n"
        f"    flag BOOLEAN,\n"
        f"    created_at TIMESTAMP NULL,\n"
        f"    code VARCHAR(20)\n"
        f");\n"
        f"CREATE INDEX ix_t{i}_name ON t{i} (name);\n"
        f"CREATE INDEX ix_t{i}_qty_code ON t{i} (qty, code);\n"
    )


def objects_sql(i, db):
    """One function and one trigger calling it, for table i."""
    if db == "postgres":
        return (
            f"CREATE FUNCTION touch_t{i}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN NEW.qty := NEW.qty + 1; RETURN NEW; END\n$$;\n"
            f"CREATE TRIGGER tr_t{i} BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch_t{i}();\n"
        )
    if db == "mysql":
        return (
            f"CREATE FUNCTION bump_t{i}(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;\n"
            f"CREATE TRIGGER tr_t{i} BEFORE UPDATE ON t{i} FOR EACH ROW SET NEW.qty = bump_t{i}(NEW.qty);\n"
        )
    return (
        f"CREATE TRIGGER tr_t{i} AFTER UPDATE ON t{i} BEGIN\n"
        f"    UPDATE t{i} SET code = 'x' WHERE id = NEW.id AND code IS NULL;\nEND;\n"
    )


def schema_sql(n, db, with_objects):
    parts = [table_sql(i, db) for i in range(n)]
    if with_objects:
        parts += [objects_sql(i, db) for i in range(n)]
    return "".join(parts)


def run(cmd, cwd, env):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def fresh_database(db, admin, name, work):
    if db == "postgres":
        subprocess.run(
            ["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )
        return f"{admin.rsplit('/', 1)[0]}/{name}"
    if db == "mysql":
        host = admin.split("@", 1)[1].split(":", 1)[0].split("/", 1)[0]
        subprocess.run(
            ["mariadb", "-h", host, "-u", "root", "-e", f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )
        return f"{admin.rsplit('/', 1)[0]}/{name}"
    path = os.path.join(work, f"{name}.db")
    open(path, "w").close()
    return f"sqlite://{path}"


def drop_database(db, admin, name):
    if db == "postgres":
        subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], capture_output=True)
    elif db == "mysql":
        host = admin.split("@", 1)[1].split(":", 1)[0].split("/", 1)[0]
        subprocess.run(["mariadb", "-h", host, "-u", "root", "-e", f"DROP DATABASE IF EXISTS {name}"], capture_output=True)


def project(migrate, work, name, sql, url, env):
    """A project whose one migration and declared schema are `sql`, its database at head."""
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "schema"))
    run([migrate, "init", "migrations"], d, env)
    with open(os.path.join(d, "migrate.toml"), "a") as f:
        f.write('\nschema_location = "schema"\n')
    with open(os.path.join(d, "schema", "schema.sql"), "w") as f:
        f.write(sql)
    # Verifying a revision of 1,000 tables exceeds a default PostgreSQL server's lock
    # table (see the README), so the migration is written unverified: it is the same DDL.
    run([migrate, "--database-url", url, "revision", "--autogenerate", "--no-verify", "-m", "schema"], d, env)
    run([migrate, "-q", "--database-url", url, "upgrade", "head"], d, env)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", choices=["postgres", "mysql", "sqlite"], default="postgres")
    ap.add_argument("--bin", help="a migrate binary (default: build the release one)")
    args = ap.parse_args()

    migrate = migrate_binary(args.bin)
    admin = server_urls().get(args.db, "")

    work = tempfile.mkdtemp(prefix="bench_check_objects_")
    names = {"plain": "bench_check_plain", "objects": "bench_check_objects"}
    try:
        env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "setup-cache"))
        urls, dirs = {}, {}
        for variant, name in names.items():
            urls[variant] = fresh_database(args.db, admin, name, work)
            sql = schema_sql(args.tables, args.db, variant == "objects")
            dirs[variant] = project(migrate, work, variant, sql, urls[variant], env)

        def check(variant, cache):
            e = dict(os.environ, MIGRATE_CACHE_DIR=cache)
            start = time.perf_counter()
            r = subprocess.run(
                [migrate, "--database-url", urls[variant], "check"], cwd=dirs[variant], env=e, capture_output=True, text=True
            )
            took = time.perf_counter() - start
            if r.returncode != 0:
                sys.exit(f"check on {variant} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
            return took

        times = {(v, m): [] for v in names for m in ("cold", "warm")}
        for variant in names:  # warm-up, and both must be clean
            check(variant, os.path.join(work, f"warm-{variant}"))
        for _ in range(args.runs):
            for variant in names:
                cold = os.path.join(work, f"cold-{variant}")
                shutil.rmtree(cold, ignore_errors=True)
                times[(variant, "cold")].append(check(variant, cold))
                times[(variant, "warm")].append(check(variant, os.path.join(work, f"warm-{variant}")))
        print(f"`migrate check`, {args.tables} tables on {args.db}, medians of {args.runs} paired runs:")
        for mode in ("cold", "warm"):
            plain = statistics.median(times[("plain", mode)])
            objects = statistics.median(times[("objects", mode)])
            print(
                f"  {mode}: plain {plain:.3f} s {[round(t, 3) for t in times[('plain', mode)]]}, "
                f"with {'a trigger' if args.db == 'sqlite' else 'a function and a trigger'} per table {objects:.3f} s "
                f"{[round(t, 3) for t in times[('objects', mode)]]}, ratio {objects / plain:.2f} (budget 1.5)"
            )
    finally:
        for name in names.values():
            drop_database(args.db, admin, name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Whole-process timings of `migrate revision --autogenerate` beside Alembic's
`alembic revision --autogenerate`, on the same generated schema.

The schema: N tables (1,000 by default), each with 10 columns, 2 indexes and 1 foreign
key. For `migrate` it is a declared schema folder (plain SQL); for Alembic the same
tables as SQLAlchemy `Table` objects in the `target_metadata` of `env.py`. Both start
from an empty database and no revisions, so both write one revision creating every
table. `migrate` also verifies what it wrote (the revision applied and reverted on a
scratch database), which Alembic does not do.

Runs are paired (migrate, alembic, migrate, alembic, ...) because this machine's speed
drifts; the medians and their ratio are printed.

    pip install alembic sqlalchemy psycopg2-binary
    python3 scripts/bench_autogenerate.py                      # SQLite, 1,000 tables
    python3 scripts/bench_autogenerate.py --db postgres        # MIGRATE_TEST_POSTGRES_URL
    python3 scripts/bench_autogenerate.py --tables 200 --runs 3
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def schema_sql(n, dialect):
    """The declared schema: one CREATE TABLE and two CREATE INDEX per table."""
    ident = "SERIAL PRIMARY KEY" if dialect == "postgres" else "INTEGER PRIMARY KEY"
    out = []
    for i in range(n):
        ref = i - 1 if i > 0 else 0
        out.append(
            f"CREATE TABLE t{i} (\n"
            f"    id {ident},\n"
            f"    ref_id INTEGER REFERENCES t{ref} (id),\n"
            f"    name VARCHAR(100) NOT NULL,\n"
            f"    email VARCHAR(200),\n"
            f"    qty INTEGER NOT NULL DEFAULT 0,\n"
            f"    price NUMERIC(10, 2),\n"
            f"    note TEXT,\n"
            f"    flag BOOLEAN,\n"
            f"    created_at TIMESTAMP,\n"
            f"    code VARCHAR(20)\n"
            f");\n"
            f"CREATE INDEX ix_t{i}_name ON t{i} (name);\n"
            f"CREATE INDEX ix_t{i}_qty_code ON t{i} (qty, code);\n"
        )
    return "".join(out)


def models_py(n):
    """The same tables as SQLAlchemy metadata, for Alembic's env.py."""
    out = [
        "from sqlalchemy import (MetaData, Table, Column, Integer, String, Text, Numeric,\n"
        "    Boolean, DateTime, ForeignKey, Index, text)\n",
        "metadata = MetaData()\n",
    ]
    for i in range(n):
        ref = i - 1 if i > 0 else 0
        out.append(
            f"Table('t{i}', metadata,\n"
            f"    Column('id', Integer, primary_key=True),\n"
            f"    Column('ref_id', Integer, ForeignKey('t{ref}.id')),\n"
            f"    Column('name', String(100), nullable=False),\n"
            f"    Column('email', String(200)),\n"
            f"    Column('qty', Integer, nullable=False, server_default=text('0')),\n"
            f"    Column('price', Numeric(10, 2)),\n"
            f"    Column('note', Text),\n"
            f"    Column('flag', Boolean),\n"
            f"    Column('created_at', DateTime),\n"
            f"    Column('code', String(20)),\n"
            f"    Index('ix_t{i}_name', 'name'),\n"
            f"    Index('ix_t{i}_qty_code', 'qty', 'code'))\n"
        )
    return "".join(out)


def fresh_postgres(admin, name):
    base = admin.rsplit("/", 1)[0]
    subprocess.run(
        ["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
    )
    return f"{base}/{name}"


def timed(cmd, cwd, env):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument(
        "--no-verify",
        action="store_true",
        help="pass --no-verify to migrate (what Alembic does: write without running it)",
    )
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    migrate = os.path.join(target, "release", "migrate")

    work = tempfile.mkdtemp(prefix="bench_autogen_")
    try:
        env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "cache"))
        if args.db == "postgres":
            admin = os.environ.get("MIGRATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            ours_url = fresh_postgres(admin, "bench_autogen_ours")
            alembic_url = fresh_postgres(admin, "bench_autogen_alembic").replace("postgres://", "postgresql+psycopg2://", 1)
        else:
            ours_url = f"sqlite://{work}/ours.db"
            alembic_url = f"sqlite:///{work}/alembic.db"
            open(f"{work}/ours.db", "w").close()

        # migrate: no revisions yet, the declared schema in schema/.
        ours = os.path.join(work, "ours")
        os.makedirs(ours)
        subprocess.run([migrate, "init", "migrations"], cwd=ours, env=env, check=True, capture_output=True)
        with open(os.path.join(ours, "migrate.toml"), "a") as f:
            f.write('\nschema_location = "schema"\n')
        os.makedirs(os.path.join(ours, "schema"))
        with open(os.path.join(ours, "schema", "tables.sql"), "w") as f:
            f.write(schema_sql(args.tables, args.db))
        sum_file = os.path.join(ours, "migrations", "migrations.sum")
        with open(sum_file) as f:
            empty_sum = f.read()

        # Alembic: the same tables as target_metadata.
        theirs = os.path.join(work, "theirs")
        os.makedirs(theirs)
        subprocess.run(["alembic", "init", "alembic"], cwd=theirs, check=True, capture_output=True)
        with open(os.path.join(theirs, "models.py"), "w") as f:
            f.write(models_py(args.tables))
        env_py = os.path.join(theirs, "alembic", "env.py")
        with open(env_py) as f:
            text = f.read()
        text = text.replace("target_metadata = None", "import sys, os\nsys.path.insert(0, os.getcwd())\nfrom models import metadata as target_metadata")
        with open(env_py, "w") as f:
            f.write(text)
        ini = os.path.join(theirs, "alembic.ini")
        with open(ini) as f:
            text = f.read()
        text = text.replace("sqlalchemy.url = driver://user:pass@localhost/dbname", f"sqlalchemy.url = {alembic_url}")
        with open(ini, "w") as f:
            f.write(text)

        def run_ours():
            took = timed(
                [migrate, "--database-url", ours_url, "revision", "--autogenerate", "-m", "bench", "--rev-id", "bench1"]
                + (["--no-verify"] if args.no_verify else []),
                ours,
                env,
            )
            for name in os.listdir(os.path.join(ours, "migrations")):
                if name.startswith("bench1"):
                    os.remove(os.path.join(ours, "migrations", name))
            with open(sum_file, "w") as f:
                f.write(empty_sum)
            return took

        def run_theirs():
            took = timed(["alembic", "revision", "--autogenerate", "-m", "bench", "--rev-id", "bench1"], theirs, env)
            versions = os.path.join(theirs, "alembic", "versions")
            for name in os.listdir(versions):
                if name.startswith("bench1"):
                    os.remove(os.path.join(versions, name))
            return took

        ours_t, theirs_t = [], []
        run_ours()  # warm-up: builds caches and the scratch server's first database
        run_theirs()
        for _ in range(args.runs):
            ours_t.append(run_ours())
            theirs_t.append(run_theirs())
        mo, mt = statistics.median(ours_t), statistics.median(theirs_t)
        print(f"{args.tables} tables on {args.db}, median of {args.runs} paired runs:")
        label = "(not verified)" if args.no_verify else "(verified)"
        print(f"  migrate revision --autogenerate {label}: {mo:.3f} s  runs {[round(t, 3) for t in ours_t]}")
        print(f"  alembic revision --autogenerate:            {mt:.3f} s  runs {[round(t, 3) for t in theirs_t]}")
        print(f"  ratio migrate/alembic: {mo / mt:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

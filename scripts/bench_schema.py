#!/usr/bin/env python3
"""Whole-process timings of the schema commands beside Alembic's, on SQLite,
PostgreSQL and MariaDB, on the same generated schema.

The schema: N tables (1,000 by default), each with 10 columns, 2 indexes and 1 foreign
key. For `migrate` it is a declared schema folder (plain SQL, `schema_location` in
migrate.toml); for Alembic (1.20, SQLAlchemy 2) the same tables as SQLAlchemy `Table`
objects in the `target_metadata` of `env.py`. Each tool has its own database (SQLite:
a file; PostgreSQL and MariaDB: the databases `bench_schema_ours` and
`bench_schema_alembic`, made afresh on the servers of MIGRATE_TEST_POSTGRES_URL and
MIGRATE_TEST_MYSQL_URL), and one revision creating every table, written by each
tool's `revision --autogenerate` and applied with `upgrade head`. Then, runs paired
(migrate, alembic, migrate, alembic, ...) because this machine's speed drifts:

  check-cold    `migrate check` with an empty cache (a new MIGRATE_CACHE_DIR each run)
                against `alembic check`; no drift, both must say so.
  check-warm    the same with the cache kept from one run before (the last check-cold
                run's, or else one unmeasured run's).
  autogenerate  one column added to one table (declared schema and models alike), then
                `migrate revision --autogenerate` (verified on a scratch database, the
                default; empty cache) against `alembic revision --autogenerate`; the
                revision written is removed again after each run.
  floor         not a command of ours: the database's own client (sqlite3, psql,
                mariadb) loading the declared schema once into an empty
                database, against `alembic check`. A check with an empty cache must load
                the schema at least once (it loads the migrations and the declared
                schema, at once): where this row misses the cold check's budget, that
                budget is below what the database itself needs on this machine.

The medians, their ratio, each row's budget and whether it is met are printed as a
markdown table, with every run's time.

Alembic, SQLAlchemy, psycopg2-binary and PyMySQL are taken from the running Python when
it has them all (Alembic 1.20, SQLAlchemy 2); otherwise they are installed from PyPI into
a virtual environment under ~/.cache/migrate-bench-schema/venv, which then runs this
script. `psql` and `mariadb` (or `mysql`) clients create and drop the databases.

    python3 scripts/bench_schema.py                        # all databases, 1,000 tables
    python3 scripts/bench_schema.py --db postgres --scenario check-warm
    python3 scripts/bench_schema.py --tables 200 --runs 3 --bin target/release/migrate
"""

import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(os.path.expanduser("~"), ".cache", "migrate-bench-schema", "venv")
REQUIREMENTS = ["alembic>=1.20,<1.21", "sqlalchemy>=2,<3", "psycopg2-binary", "pymysql"]

DATABASES = ["sqlite", "postgres", "mysql"]
SCENARIOS = ["check-cold", "check-warm", "autogenerate", "floor"]
# Budgets as migrate/alembic ratios, per scenario and database.
BUDGETS = {
    "check-cold": {"sqlite": 0.1, "postgres": 0.5, "mysql": 0.5},
    "check-warm": {"sqlite": 0.05, "postgres": 0.05, "mysql": 0.05},
    "autogenerate": {"sqlite": 0.25, "postgres": 0.5, "mysql": 0.5},
    # Not a command: the database's own client loading the schema once into an empty
    # database, which a check with an empty cache must do at least once (it loads the
    # migrations and the declared schema, at once). Held to the cold check's budget:
    # where this row misses it, so must any tool that builds the schema it compares.
    "floor": {"sqlite": 0.1, "postgres": 0.5, "mysql": 0.5},
}
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MariaDB"}
OURS_DB, ALEMBIC_DB = "bench_schema_ours", "bench_schema_alembic"
FLOOR_DB = "bench_schema_floor"


def have_alembic():
    """Whether this interpreter has Alembic 1.20, SQLAlchemy 2 and both drivers."""
    try:
        import alembic
        import psycopg2  # noqa: F401
        import pymysql  # noqa: F401
        import sqlalchemy
    except ImportError:
        return False
    return alembic.__version__.startswith("1.20.") and sqlalchemy.__version__.startswith("2.")


def ensure_python():
    """Re-runs the script in a virtual environment with Alembic's packages if need be."""
    if have_alembic():
        return
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit(f"the virtual environment {VENV} lacks {REQUIREMENTS}; remove it and run again")
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        print(f"installing {' '.join(REQUIREMENTS)} into {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


# --- the generated schema -------------------------------------------------------------

# Column types per database, chosen so that each tool reads back what it declared: the
# SQL for migrate and the SQLAlchemy type for Alembic name the same column type.
SQL_TYPES = {
    "sqlite": {"id": "INTEGER PRIMARY KEY", "ts": "TIMESTAMP"},
    "postgres": {"id": "SERIAL PRIMARY KEY", "ts": "TIMESTAMP"},
    "mysql": {"id": "INTEGER AUTO_INCREMENT PRIMARY KEY", "ts": "DATETIME"},
}


def extra_table(n):
    """The table that gets the added column in the autogenerate scenario."""
    return n // 2


def table_sql(i, db, extra):
    ref = i - 1 if i > 0 else 0
    t = SQL_TYPES[db]
    added = "    extra INTEGER,\n" if extra else ""
    return (
        f"CREATE TABLE t{i} (\n"
        f"    id {t['id']},\n"
        f"    ref_id INTEGER,\n"
        f"    name VARCHAR(100) NOT NULL,\n"
        f"    email VARCHAR(200),\n"
        f"    qty INTEGER NOT NULL DEFAULT 0,\n"
        f"    price NUMERIC(10, 2),\n"
        f"    note TEXT,\n"
        f"    flag BOOLEAN,\n"
        f"    created_at {t['ts']} NULL,\n"
        f"    code VARCHAR(20),\n"
        f"{added}"
        f"    FOREIGN KEY (ref_id) REFERENCES t{ref} (id)\n"
        f");\n"
        f"CREATE INDEX ix_t{i}_name ON t{i} (name);\n"
        f"CREATE INDEX ix_t{i}_qty_code ON t{i} (qty, code);\n"
    )


def schema_sql(n, db, added):
    """The declared schema; `added` adds the one column of the autogenerate scenario."""
    return "".join(table_sql(i, db, added and i == extra_table(n)) for i in range(n))


def models_py(n, added):
    """The same tables as SQLAlchemy metadata, for Alembic's env.py."""
    # MariaDB stores BOOLEAN as TINYINT(1) and reads it back so; Alembic takes that
    # for a Boolean, so one set of types serves every database. MariaDB's DATETIME is
    # SQLAlchemy's DateTime there, hence DATETIME rather than TIMESTAMP in its SQL.
    out = [
        "from sqlalchemy import (MetaData, Table, Column, Integer, String, Text, Numeric,\n"
        "    Boolean, DateTime, ForeignKey, Index, text)\n",
        "metadata = MetaData()\n",
    ]
    for i in range(n):
        ref = i - 1 if i > 0 else 0
        extra = "    Column('extra', Integer),\n" if added and i == extra_table(n) else ""
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
            f"{extra}"
            f"    Index('ix_t{i}_name', 'name'),\n"
            f"    Index('ix_t{i}_qty_code', 'qty', 'code'))\n"
        )
    return "".join(out)


ENV_PY = '''"""Alembic's environment for the benchmark: online mode, the generated models."""
import os
import sys

from alembic import context
from sqlalchemy import create_engine

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from models import metadata  # noqa: E402

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
'''


# --- databases and processes ----------------------------------------------------------


def migrate_binary(given):
    """The binary to measure: `given`, else the release build of this checkout (built)."""
    if given:
        return os.path.abspath(given)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "migrate")


def server_urls():
    """The servers' admin URLs, as the test suite has them."""
    return {
        "postgres": os.environ.get("MIGRATE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        "mysql": os.environ.get("MIGRATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    }


def mysql_client():
    return shutil.which("mariadb") or shutil.which("mysql") or "mariadb"


def mysql_args(admin):
    """Client arguments for the server of a mysql:// URL (user, password, host, port)."""
    rest = admin.split("://", 1)[1]
    cred, _, hostpart = rest.rpartition("@")
    user, _, password = cred.partition(":")
    hostport = hostpart.split("/", 1)[0]
    host, _, port = hostport.partition(":")
    args = ["-h", host or "127.0.0.1", "-P", port or "3306", "-u", user or "root"]
    if password:
        args.append(f"-p{password}")
    return args


def sql_admin(db, admin, statement):
    if db == "postgres":
        cmd = ["psql", admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement]
    else:
        cmd = [mysql_client(), *mysql_args(admin), "-e", statement]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def drop_statement(db, name):
    # FORCE: PostgreSQL's autovacuum may be connected to a database that just had 1,000
    # tables created in it, and a plain DROP DATABASE then fails.
    force = " WITH (FORCE)" if db == "postgres" else ""
    return f"DROP DATABASE IF EXISTS {name}{force}"


def fresh_database(db, admin, name):
    """Drops and creates `name` on the server of `admin`; returns its URL."""
    sql_admin(db, admin, drop_statement(db, name))
    sql_admin(db, admin, f"CREATE DATABASE {name}")
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def run(cmd, cwd, env, expect=None):
    """Runs a command to its end; stops the benchmark with its output unless it exits 0
    (and prints `expect`, when given). Returns the wall time in seconds."""
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if r.returncode != 0 or (expect is not None and expect not in r.stdout + r.stderr):
        what = f"exited {r.returncode}" if r.returncode != 0 else f"did not print {expect!r}"
        sys.exit(f"{' '.join(cmd)} (in {cwd}) {what}:\n{r.stdout}\n{r.stderr}")
    return took


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Pair:
    """Both tools' projects for one database, at head with no drift."""

    def __init__(self, migrate, db, n, work, admin):
        self.migrate, self.db, self.n = migrate, db, n
        self.work = os.path.join(work, db)
        self.alembic = [sys.executable, "-m", "alembic"]
        os.makedirs(self.work)
        if db == "sqlite":
            ours_path = os.path.join(self.work, "ours.db")
            open(ours_path, "w").close()
            self.ours_url = f"sqlite://{ours_path}"
            alembic_url = f"sqlite:///{os.path.join(self.work, 'alembic.db')}"
        else:
            self.ours_url = fresh_database(db, admin, OURS_DB)
            scheme = "postgresql+psycopg2" if db == "postgres" else "mysql+pymysql"
            alembic_url = scheme + "://" + fresh_database(db, admin, ALEMBIC_DB).split("://", 1)[1]
        self.env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(self.work, "setup-cache"))
        self.env.pop("DATABASE_URL", None)
        self.alembic_url = alembic_url
        self.ours = os.path.join(self.work, "ours")
        self.theirs = os.path.join(self.work, "alembic")
        # The cache folder of the last cold `check`, full after that one run.
        self.warm_cache = None

    def setup(self):
        self.setup_ours()
        self.setup_alembic()

    def setup_ours(self):
        """migrate: the declared schema in schema/, one revision creating it, applied."""
        migrate = self.migrate
        os.makedirs(os.path.join(self.ours, "schema"))
        run([migrate, "init", "migrations"], self.ours, self.env)
        with open(os.path.join(self.ours, "migrate.toml"), "a") as f:
            f.write('\nschema_location = "schema"\n')
        self.set_schema(added=False)
        # Verifying a revision that creates 1,000 tables would drop them all in one
        # transaction on the scratch database, beyond a default PostgreSQL server's lock
        # table; this set-up revision is the declared DDL itself, so it goes unverified.
        run(
            [migrate, "--database-url", self.ours_url, "revision", "--autogenerate", "--no-verify", "-m", "schema"],
            self.ours,
            self.env,
        )
        run([migrate, "-q", "--database-url", self.ours_url, "upgrade", "head"], self.ours, self.env)
        self.sum_file = os.path.join(self.ours, "migrations", "migrations.sum")
        with open(self.sum_file) as f:
            self.sum_at_head = f.read()
        self.revisions = set(os.listdir(os.path.join(self.ours, "migrations")))

    def setup_alembic(self):
        """Alembic: the same tables as target_metadata, one revision creating them, applied."""
        alembic_url = self.alembic_url
        os.makedirs(self.theirs)
        run(self.alembic + ["init", "alembic"], self.theirs, self.env)
        write(os.path.join(self.theirs, "alembic", "env.py"), ENV_PY)
        ini = os.path.join(self.theirs, "alembic.ini")
        with open(ini) as f:
            text = f.read()
        text = text.replace("sqlalchemy.url = driver://user:pass@localhost/dbname", f"sqlalchemy.url = {alembic_url}")
        write(ini, text)
        self.set_models(added=False)
        run(self.alembic + ["revision", "--autogenerate", "-m", "schema", "--rev-id", "schema"], self.theirs, self.env)
        run(self.alembic + ["upgrade", "head"], self.theirs, self.env)
        self.versions = os.path.join(self.theirs, "alembic", "versions")
        self.alembic_revisions = set(os.listdir(self.versions))

    def set_schema(self, added):
        write(os.path.join(self.ours, "schema", "tables.sql"), schema_sql(self.n, self.db, added))

    def set_models(self, added):
        write(os.path.join(self.theirs, "models.py"), models_py(self.n, added))
        shutil.rmtree(os.path.join(self.theirs, "__pycache__"), ignore_errors=True)

    def check_ours(self, cache):
        env = dict(self.env, MIGRATE_CACHE_DIR=cache)
        return run([self.migrate, "--database-url", self.ours_url, "check"], self.ours, env, expect="up to date")

    def floor_load(self, admin):
        """The database's own client loading the declared schema into an empty database,
        its cheapest way: statement by statement, each committing on its own (on
        PostgreSQL without waiting for the WAL flush; one transaction of 3,000
        statements is slower there); only the load is timed."""
        schema = os.path.join(self.ours, "schema", "tables.sql")
        if self.db == "sqlite":
            with open(schema) as f:
                start = time.perf_counter()
                r = subprocess.run(["sqlite3", ":memory:"], stdin=f, capture_output=True, text=True)
        else:
            url = fresh_database(self.db, admin, FLOOR_DB)
            if self.db == "postgres":
                cmd = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f", schema]
                env = dict(os.environ, PGOPTIONS="-c synchronous_commit=off")
                start = time.perf_counter()
                r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            else:
                with open(schema) as f:
                    start = time.perf_counter()
                    r = subprocess.run(
                        [mysql_client(), *mysql_args(admin), FLOOR_DB], stdin=f, capture_output=True, text=True
                    )
        took = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"loading {schema} with the {self.db} client failed:\n{r.stdout}\n{r.stderr}")
        if self.db != "sqlite":
            sql_admin(self.db, admin, drop_statement(self.db, FLOOR_DB))
        return took

    def check_alembic(self):
        return run(self.alembic + ["check"], self.theirs, self.env, expect="No new upgrade operations detected")

    def autogenerate_ours(self, cache):
        env = dict(self.env, MIGRATE_CACHE_DIR=cache)
        took = run(
            [self.migrate, "--database-url", self.ours_url, "revision", "--autogenerate", "-m", "extra"],
            self.ours,
            env,
        )
        folder = os.path.join(self.ours, "migrations")
        written = set(os.listdir(folder)) - self.revisions
        if not written:
            sys.exit(f"migrate revision --autogenerate wrote nothing in {folder}")
        self.expect_column(written, folder)
        for name in written:
            path = os.path.join(folder, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        write(self.sum_file, self.sum_at_head)
        return took

    def autogenerate_alembic(self):
        took = run(self.alembic + ["revision", "--autogenerate", "-m", "extra"], self.theirs, self.env)
        written = set(os.listdir(self.versions)) - self.alembic_revisions - {"__pycache__"}
        if not written:
            sys.exit(f"alembic revision --autogenerate wrote nothing in {self.versions}")
        self.expect_column(written, self.versions)
        for name in written:
            os.remove(os.path.join(self.versions, name))
        shutil.rmtree(os.path.join(self.versions, "__pycache__"), ignore_errors=True)
        return took

    @staticmethod
    def expect_column(written, folder):
        """Stops unless what a tool wrote adds the column `extra`."""
        text = ""
        for name in written:
            path = os.path.join(folder, name)
            paths = [os.path.join(path, f) for f in os.listdir(path)] if os.path.isdir(path) else [path]
            for p in paths:
                with open(p) as f:
                    text += f.read()
        if "extra" not in text:
            sys.exit(f"the revision written in {folder} does not add the column extra:\n{text}")


def measure(pair, scenario, runs, work, admin):
    """Paired runs of one scenario; returns (migrate times, alembic times)."""
    ours, theirs = [], []
    if scenario == "floor":
        for _ in range(runs):
            ours.append(pair.floor_load(admin))
            theirs.append(pair.check_alembic())
        return ours, theirs
    cache_root = os.path.join(work, pair.db, f"cache-{scenario}")
    if scenario == "check-warm":
        # A cold check's cache is what one unmeasured run would leave; without one,
        # that run is made here. Alembic keeps no cache: it needs no such run.
        warm = pair.warm_cache
        if warm is None:
            warm = os.path.join(cache_root, "warm")
            pair.check_ours(warm)
        for _ in range(runs):
            ours.append(pair.check_ours(warm))
            theirs.append(pair.check_alembic())
        return ours, theirs
    if scenario == "autogenerate":
        pair.set_schema(added=True)
        pair.set_models(added=True)
    try:
        for k in range(runs):
            cold = os.path.join(cache_root, f"run{k}")
            if scenario == "check-cold":
                ours.append(pair.check_ours(cold))
                theirs.append(pair.check_alembic())
            else:
                ours.append(pair.autogenerate_ours(cold))
                theirs.append(pair.autogenerate_alembic())
            if scenario == "check-cold" and k == runs - 1:
                pair.warm_cache = cold
            else:
                shutil.rmtree(cold, ignore_errors=True)
    finally:
        if scenario == "autogenerate":
            pair.set_schema(added=False)
            pair.set_models(added=False)
    return ours, theirs


def fmt_runs(times):
    return ", ".join(f"{t:.2f}" for t in times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=DATABASES + ["all"], default="all")
    ap.add_argument("--tables", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scenario", choices=SCENARIOS + ["all"], default="all")
    ap.add_argument("--bin", help="a migrate binary (default: build and use target/release/migrate)")
    args = ap.parse_args()
    ensure_python()
    began = time.perf_counter()

    migrate = migrate_binary(args.bin)
    admins = server_urls()
    dbs = DATABASES if args.db == "all" else [args.db]
    scenarios = SCENARIOS if args.scenario == "all" else [args.scenario]

    import alembic
    import sqlalchemy

    print(
        f"{args.tables} tables, medians of {args.runs} paired runs (Alembic {alembic.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}):\n",
        flush=True,
    )
    print("| database | scenario | `migrate` | Alembic | ratio | budget | met | `migrate` runs (s) | Alembic runs (s) |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    work = tempfile.mkdtemp(prefix="bench_schema_")
    missed = 0
    try:
        pairs = [Pair(migrate, db, args.tables, work, admins.get(db, "")) for db in dbs]
        # The set-up is not measured, so the databases are set up at once; on one server
        # the tools take turns, since each creates every table in one transaction and two
        # such at a time overflow a default PostgreSQL server's lock table.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(pairs)) as pool:
            for job in [pool.submit(p.setup) for p in pairs]:
                job.result()
        for pair in pairs:
            db = pair.db
            for scenario in scenarios:
                ours, theirs = measure(pair, scenario, args.runs, work, admins.get(db))
                mo, mt = statistics.median(ours), statistics.median(theirs)
                ratio, budget = mo / mt, BUDGETS[scenario][db]
                met = ratio <= budget
                missed += not met
                print(
                    f"| {LABELS[db]} | {scenario} | {mo:.2f} s | {mt:.2f} s | {ratio:.2f} | <= {budget} | "
                    f"{'met' if met else '**not met**'} | {fmt_runs(ours)} | {fmt_runs(theirs)} |",
                    flush=True,
                )
    finally:
        for db in dbs:
            if db != "sqlite":
                for name in (OURS_DB, ALEMBIC_DB):
                    drop = (
                        ["psql", admins[db], "-q", "-c", drop_statement(db, name)]
                        if db == "postgres"
                        else [mysql_client(), *mysql_args(admins[db]), "-e", f"DROP DATABASE IF EXISTS {name}"]
                    )
                    r = subprocess.run(drop, capture_output=True, text=True)
                    if r.returncode != 0:
                        print(f"could not drop {name}: {r.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s; budgets not met: {missed}")


if __name__ == "__main__":
    main()

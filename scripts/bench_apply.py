#!/usr/bin/env python3
"""Whole-process upgrade timings: the release `migrate` binary beside refinery's CLI,
sqlx-cli and Alembic, on the same generated chain of revisions.

Every tool gets the same N linear revisions of one `CREATE TABLE` each, in its own file
layout (`migrate`: `.sql` files with the header and `migrations.sum`; refinery:
`V{n}__t{n}.sql`; sqlx: `{n}_t{n}.sql`; Alembic: one Python revision file each), and
each tool runs its default mode (one transaction per migration; Alembic's default
`env.py` runs the whole upgrade in one transaction, so it is also measured with
`transaction_per_migration=True`). Two cases per database, each a whole process from
exec to exit:

- upgrade from empty: a new database (an empty SQLite file, or an empty PostgreSQL
  database, created beforehand, untimed), upgraded to head;
- already at head: the same command again on that database.

Runs are paired (A B C A B C ...), after one untimed warm-up round (page cache, the
`migrate` parse cache, Python's bytecode cache). Printed: each tool's median time, and
its ratio to `migrate` taken within each round (the machine's speed drifts between
rounds; tools of one round see it alike), as the median, lowest and highest over the
rounds. Databases: SQLite on disk (a folder under the system's
temporary folder), SQLite in /dev/shm, and PostgreSQL when `MIGRATE_TEST_POSTGRES_URL`
(or `--postgres`) names an admin URL (`psql` creates and drops the databases). Alembic
runs on SQLite only.

    python3 scripts/bench_apply.py                      # 1,000 revisions, 5 rounds
    python3 scripts/bench_apply.py -n 200 --runs 3 --only sqlite-shm

A change to the runner is measured against the build before it the same way: build
`migrate` from the earlier commit and name it with `--previous BIN` (measured as
"previous build", in its own parse-cache folder); `--peers ''` leaves the other tools
out:

    python3 scripts/bench_apply.py --previous /tmp/prev/release/migrate --peers '' --no-alembic

The two CLIs are installed on first use into a scratch folder (`--tools`, default
/tmp/bench-apply-tools; nothing lands in the repository), which takes several minutes:
    CARGO_HOME=<tools>/cargo-home cargo install refinery_cli --version ^0.10 --root <tools>
    CARGO_HOME=<tools>/cargo-home cargo install sqlx-cli --version ^0.8 \\
        --no-default-features --features sqlite,postgres,rustls --root <tools>
Alembic comes from `pip install alembic` when it is not importable.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, cwd=None, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def timed(cmd, env=None, cwd=None):
    started = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return took


# ---- tools ------------------------------------------------------------------------


def install(tools, binary, args):
    path = os.path.join(tools, "bin", binary)
    if os.path.exists(path):
        return path
    print(f"installing {binary} into {tools} (several minutes)...", file=sys.stderr)
    env = dict(os.environ, CARGO_HOME=os.path.join(tools, "cargo-home"), CARGO_TARGET_DIR=os.path.join(tools, "target"))
    run(["cargo", "install", *args, "--root", tools], env=env)
    return path


def alembic_available():
    if run([sys.executable, "-c", "import alembic"], check=False).returncode == 0:
        return True
    return run([sys.executable, "-m", "pip", "install", "-q", "alembic"], check=False).returncode == 0


# ---- folders ----------------------------------------------------------------------


def rev(i):
    return f"r{i:011d}"


def create(i):
    return f"CREATE TABLE t{i:05d} (id INT PRIMARY KEY, name VARCHAR(50));"


def generate(work, n, migrate_bin):
    m = os.path.join(work, "migrate")
    os.makedirs(os.path.join(m, "migrations"))
    with open(os.path.join(m, "migrate.toml"), "w") as f:
        f.write('script_location = "migrations"\n')
    for i in range(1, n + 1):
        down = rev(i - 1) if i > 1 else ""
        with open(os.path.join(m, "migrations", f"{rev(i)}_t{i}.sql"), "w") as f:
            f.write(
                f"-- t{i}\n--\n-- revision: {rev(i)}\n-- down_revision: {down}\n-- branch_labels:\n"
                f"-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n"
                f"-- migrate:upgrade\n{create(i)}\n\n-- migrate:downgrade\nDROP TABLE t{i:05d};\n"
            )
    run([migrate_bin, "-q", "-c", os.path.join(m, "migrate.toml"), "hash"])

    r = os.path.join(work, "refinery")
    os.makedirs(r)
    for i in range(1, n + 1):
        with open(os.path.join(r, f"V{i}__t{i}.sql"), "w") as f:
            f.write(create(i) + "\n")

    s = os.path.join(work, "sqlx")
    os.makedirs(s)
    for i in range(1, n + 1):
        with open(os.path.join(s, f"{i}_t{i}.sql"), "w") as f:
            f.write(create(i) + "\n")

    a = os.path.join(work, "alembic")
    os.makedirs(os.path.join(a, "versions"))
    with open(os.path.join(a, "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = %(here)s\n")
    with open(os.path.join(a, "env.py"), "w") as f:
        f.write(
            "import os\n"
            "from alembic import context\n"
            "from sqlalchemy import create_engine\n\n"
            "engine = create_engine(os.environ['BENCH_DB_URL'])\n"
            "with engine.connect() as connection:\n"
            "    context.configure(\n"
            "        connection=connection,\n"
            "        target_metadata=None,\n"
            "        transaction_per_migration=os.environ.get('BENCH_PER_MIGRATION') == '1',\n"
            "    )\n"
            "    with context.begin_transaction():\n"
            "        context.run_migrations()\n"
        )
    for i in range(1, n + 1):
        down = repr(rev(i - 1)) if i > 1 else "None"
        with open(os.path.join(a, "versions", f"{rev(i)}_t{i}.py"), "w") as f:
            f.write(
                f'"""t{i}"""\nfrom alembic import op\n\nrevision = {rev(i)!r}\ndown_revision = {down}\n'
                f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute({create(i)!r})\n\n\n"
                f"def downgrade():\n    op.execute('DROP TABLE t{i:05d}')\n"
            )
    return m, r, s, a


# ---- databases --------------------------------------------------------------------


class SqliteTarget:
    def __init__(self, name, folder):
        self.name = name
        self.folder = folder
        self.n = 0

    def new(self):
        self.n += 1
        path = os.path.join(self.folder, f"db{self.n}.sqlite")
        # An empty file (an empty database to SQLite) for every tool: refinery's CLI
        # does not create one.
        open(path, "w").close()
        return {
            "path": path,
            "migrate": f"sqlite://{path}",
            "refinery": f"sqlite://{path}",
            "sqlx": f"sqlite://{path}?mode=rwc",
            "alembic": f"sqlite:///{path}",
        }

    def tables(self, db):
        with sqlite3.connect(db["path"]) as c:
            return c.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't%'").fetchone()[0]

    def drop(self, db):
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.remove(db["path"] + suffix)
            except FileNotFoundError:
                pass
        for f in os.listdir(self.folder):
            if f.endswith(".migrate-lock"):
                os.remove(os.path.join(self.folder, f))


class PostgresTarget:
    name = "PostgreSQL"

    def __init__(self, admin):
        self.admin = admin
        self.base = admin.rsplit("/", 1)[0]
        self.n = 0

    def psql(self, sql):
        return run(["psql", "-qAt", self.admin, "-c", sql]).stdout.strip()

    def new(self):
        self.n += 1
        name = f"bench_apply_{os.getpid()}_{self.n}"
        self.psql(f"DROP DATABASE IF EXISTS {name}")
        self.psql(f"CREATE DATABASE {name}")
        url = f"{self.base}/{name}"
        return {"name": name, "migrate": url, "refinery": url, "sqlx": url}

    def tables(self, db):
        url = f"{self.base}/{db['name']}"
        out = run(["psql", "-qAt", url, "-c", "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t[0-9]+$'"]).stdout
        return int(out.strip())

    def drop(self, db):
        self.psql(f"DROP DATABASE IF EXISTS {db['name']}")


# ---- the runs ---------------------------------------------------------------------


def commands(tool, db, dirs, bins):
    m, r, s, a = dirs
    if tool == "migrate":
        return [bins["migrate"], "-q", "-c", os.path.join(m, "migrate.toml"), "--database-url", db["migrate"], "upgrade", "head"], None
    if tool == "previous build":
        # Its own parse cache: a cache written by another build is a miss for this one.
        return [bins["previous"], "-q", "-c", os.path.join(m, "migrate.toml"), "--database-url", db["migrate"], "upgrade", "head"], {
            "MIGRATE_CACHE_DIR": bins["previous cache"],
        }
    if tool == "refinery":
        return [bins["refinery"], "migrate", "-e", "BENCH_DB_URL", "-p", r], {"BENCH_DB_URL": db["refinery"]}
    if tool == "sqlx":
        return [bins["sqlx"], "migrate", "run", "--source", s, "--database-url", db["sqlx"]], None
    per_migration = "1" if tool == "alembic, per migration" else "0"
    return [*bins["alembic"], "-c", os.path.join(a, "alembic.ini"), "upgrade", "head"], {
        "BENCH_DB_URL": db["alembic"],
        "BENCH_PER_MIGRATION": per_migration,
    }


def measure(target, tools, dirs, bins, runs, n, env):
    empty = {t: [] for t in tools}
    at_head = {t: [] for t in tools}
    for round_ in range(runs + 1):
        for tool in tools:
            db = target.new()
            cmd, extra = commands(tool, db, dirs, bins)
            e = dict(env, **(extra or {}))
            took = timed(cmd, env=e)
            if round_ == 0:
                got = target.tables(db)
                if got != n:
                    sys.exit(f"{tool} on {target.name}: {got} tables after the upgrade, expected {n}")
            again = timed(cmd, env=e)
            if round_ > 0:
                empty[tool].append(took)
                at_head[tool].append(again)
            target.drop(db)
    return empty, at_head


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def paired(times, tool):
    """The tool's time over migrate's in each round: median, lowest, highest."""
    r = sorted(t / m for t, m in zip(times[tool], times["migrate"]))
    return statistics.median(r), r[0], r[-1]


def report(title, tools, empty, at_head):
    med = {t: (statistics.median(empty[t]), statistics.median(at_head[t])) for t in tools}
    print(f"\n{title}")
    print("| tool | upgrade from empty | ratio to migrate (lowest–highest) | already at head | ratio to migrate (lowest–highest) |")
    print("|---|---:|---:|---:|---:|")
    for t in tools:
        e, h = med[t]
        re, rh = paired(empty, t), paired(at_head, t)
        print(
            f"| {t} | {fmt(e)} | {re[0]:.2f}x ({re[1]:.2f}–{re[2]:.2f}) | {fmt(h)} | {rh[0]:.2f}x ({rh[1]:.2f}–{rh[2]:.2f}) |"
        )
    sys.stdout.flush()
    return empty, at_head


def version(cmd):
    r = run(cmd, check=False)
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="revisions (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="paired rounds after the warm-up (default 5)")
    ap.add_argument("--tools", default="/tmp/bench-apply-tools", help="where refinery and sqlx-cli are installed")
    ap.add_argument("--postgres", default=os.environ.get("MIGRATE_TEST_POSTGRES_URL"), help="admin URL")
    ap.add_argument("--only", default="sqlite-disk,sqlite-shm,postgres", help="comma-separated databases")
    ap.add_argument("--no-alembic", action="store_true")
    ap.add_argument("--peers", default="refinery,sqlx", help="comma-separated other tools (default refinery,sqlx; '' for none)")
    ap.add_argument("--previous", help="a `migrate` binary of an earlier build, measured beside this one")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]

    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT)
    bins = {"migrate": os.path.join(target_dir, "release", "migrate")}
    if "refinery" in peers:
        bins["refinery"] = install(args.tools, "refinery", ["refinery_cli", "--version", "^0.10"])
    if "sqlx" in peers:
        bins["sqlx"] = install(
            args.tools, "sqlx", ["sqlx-cli", "--version", "^0.8", "--no-default-features", "--features", "sqlite,postgres,rustls"]
        )
    if args.previous:
        bins["previous"] = os.path.abspath(args.previous)
    alembic = not args.no_alembic and alembic_available()
    if alembic:
        # The module, not a launcher script (pyenv's shims add tens of milliseconds).
        bins["alembic"] = [sys.executable, "-m", "alembic"]

    work = tempfile.mkdtemp(prefix="bench-apply-")
    shm = tempfile.mkdtemp(prefix="bench-apply-", dir="/dev/shm") if os.path.isdir("/dev/shm") else None
    env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "cache"))
    env.pop("DATABASE_URL", None)
    bins["previous cache"] = os.path.join(work, "cache-previous")
    try:
        dirs = generate(work, args.n, bins["migrate"])
        print(f"{args.n} revisions of one CREATE TABLE each; medians of {args.runs} paired rounds; whole processes")
        head = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=False).stdout.strip()
        print("versions: " + "; ".join([
            version([bins["migrate"], "--version"]) + f" (built from {head}{', with uncommitted changes' if dirty else ''})",
            *([version([bins["previous"], "--version"]) + " (previous build)"] if "previous" in bins else []),
            *[version([bins[p], "--version"]) for p in peers],
            version([*bins["alembic"], "--version"]) if alembic else "alembic skipped",
            f"SQLite (Python's) {sqlite3.sqlite_version}",
        ]))
        only = args.only.split(",")
        targets = []
        if "sqlite-disk" in only:
            d = os.path.join(work, "db")
            os.makedirs(d)
            targets.append((SqliteTarget(f"SQLite on disk ({d})", d), True))
        if "sqlite-shm" in only and shm:
            targets.append((SqliteTarget(f"SQLite in /dev/shm", shm), True))
        if "postgres" in only and args.postgres:
            targets.append((PostgresTarget(args.postgres), False))
        for target, sqlite in targets:
            tools = ["migrate", *(["previous build"] if "previous" in bins else []), *peers]
            if sqlite and alembic:
                tools += ["alembic", "alembic, per migration"]
            empty, at_head = measure(target, tools, dirs, bins, args.runs, args.n, env)
            report(target.name, tools, empty, at_head)
            if "alembic" in tools:
                e, h = paired(empty, "alembic"), paired(at_head, "alembic")
                print(f"migrate / Alembic (paired, median of rounds): {1 / e[0]:.3f} from empty, {1 / h[0]:.3f} at head (budget: at most 0.1)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if shm:
            shutil.rmtree(shm, ignore_errors=True)


if __name__ == "__main__":
    main()

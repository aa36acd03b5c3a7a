#!/usr/bin/env python3
"""One migration of N one-row INSERTs: the release `migrate` binary beside each
database's own command-line client, on the same SQL.

The project has one revision whose upgrade creates a table and inserts N rows, one
`INSERT` statement per row. The client runs the same statements from a plain file,
the INSERTs wrapped in `BEGIN;` ... `COMMIT;` as the migration runs them in one
transaction (the `CREATE TABLE` before it, which on MySQL would commit it):

- SQLite: `sqlite3 <file>.db < inserts.sql` on a new file;
- PostgreSQL: `psql -X -q -v ON_ERROR_STOP=1 -f inserts.sql <url>` on a new database;
- MySQL/MariaDB: `mariadb -h <host> -P <port> -u <user> <db> < inserts.sql` on a new
  database;

and `migrate upgrade head` on another new one. Each is a whole process from exec to
exit, paired (migrate, client, migrate, client, ...) after one untimed warm-up round
that also checks both left N rows. Printed per database: each one's median time and
migrate's time over the client's, taken within each round, as the median, lowest and
highest over the rounds.

    python3 scripts/bench_statements.py                     # 100,000 rows, 5 rounds
    python3 scripts/bench_statements.py -n 400000 --only sqlite

PostgreSQL and MySQL run when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL`
(or `--postgres` / `--mysql`) name an admin URL; their databases are created and
dropped with `psql` and `mariadb`. SQLite's files go in a folder under the system's
temporary folder.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, stdin=None, check=True, cwd=None):
    r = subprocess.run(cmd, env=env, stdin=stdin, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def timed(cmd, env=None, stdin_path=None):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        r = subprocess.run(cmd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - started
    finally:
        if stdin_path:
            stdin.close()
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return took


# ---- the project ------------------------------------------------------------------


def statements(n):
    yield "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50));\n"
    for i in range(1, n + 1):
        yield f"INSERT INTO items (id, name) VALUES ({i}, 'item {i}');\n"


def generate(work, n, migrate_bin):
    project = os.path.join(work, "project")
    os.makedirs(os.path.join(project, "migrations"))
    with open(os.path.join(project, "migrate.toml"), "w") as f:
        f.write('script_location = "migrations"\n')
    with open(os.path.join(project, "migrations", "r1_inserts.sql"), "w") as f:
        f.write(
            "-- inserts\n--\n-- revision: r1\n-- down_revision:\n-- branch_labels:\n"
            "-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n-- migrate:upgrade\n"
        )
        f.writelines(statements(n))
        f.write("\n-- migrate:downgrade\nDROP TABLE items;\n")
    run([migrate_bin, "-q", "-c", os.path.join(project, "migrate.toml"), "hash"])
    plain = os.path.join(work, "inserts.sql")
    with open(plain, "w") as f:
        rows = statements(n)
        # The CREATE TABLE before the transaction: on MySQL it would commit it, and the
        # INSERTs would then commit one by one.
        f.write(next(rows))
        f.write("BEGIN;\n")
        f.writelines(rows)
        f.write("COMMIT;\n")
    return os.path.join(project, "migrate.toml"), plain


# ---- databases --------------------------------------------------------------------


class Sqlite:
    name = "SQLite (file)"

    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    def new(self):
        self.n += 1
        path = os.path.join(self.folder, f"db{self.n}.sqlite")
        open(path, "w").close()
        return {"path": path, "url": f"sqlite://{path}"}

    def client(self, db, plain):
        return ["sqlite3", "-bail", db["path"]], plain

    def rows(self, db):
        return int(run(["sqlite3", db["path"], "SELECT COUNT(*) FROM items"]).stdout.strip())

    def drop(self, db):
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.remove(db["path"] + suffix)
            except FileNotFoundError:
                pass
        for f in os.listdir(self.folder):
            if f.endswith(".migrate-lock"):
                os.remove(os.path.join(self.folder, f))


class Postgres:
    name = "PostgreSQL"

    def __init__(self, admin):
        self.admin = admin
        self.base = admin.split("?")[0].rsplit("/", 1)[0]
        self.n = 0

    def psql(self, sql, url=None):
        return run(["psql", "-X", "-qAt", url or self.admin, "-c", sql]).stdout.strip()

    def new(self):
        self.n += 1
        name = f"bench_statements_{os.getpid()}_{self.n}"
        self.psql(f"DROP DATABASE IF EXISTS {name}")
        self.psql(f"CREATE DATABASE {name}")
        return {"name": name, "url": f"{self.base}/{name}"}

    def client(self, db, plain):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", plain, db["url"]], None

    def rows(self, db):
        return int(self.psql("SELECT COUNT(*) FROM items", db["url"]))

    def drop(self, db):
        self.psql(f"DROP DATABASE IF EXISTS {db['name']}")


class Mysql:
    name = "MariaDB"

    def __init__(self, admin):
        u = urllib.parse.urlsplit(admin)
        self.base = f"{u.scheme}://{u.netloc}"
        self.args = ["-h", u.hostname or "127.0.0.1", "-P", str(u.port or 3306), "-u", urllib.parse.unquote(u.username or "root")]
        if u.password:
            self.args.append(f"--password={urllib.parse.unquote(u.password)}")
        self.n = 0

    def sql(self, sql, db=""):
        return run(["mariadb", *self.args, "-N", "-B", "-e", sql, *([db] if db else [])]).stdout.strip()

    def new(self):
        self.n += 1
        name = f"bench_statements_{os.getpid()}_{self.n}"
        self.sql(f"DROP DATABASE IF EXISTS {name}")
        self.sql(f"CREATE DATABASE {name}")
        return {"name": name, "url": f"{self.base}/{name}"}

    def client(self, db, plain):
        return ["mariadb", *self.args, db["name"]], plain

    def rows(self, db):
        return int(self.sql("SELECT COUNT(*) FROM items", db["name"]))

    def drop(self, db):
        self.sql(f"DROP DATABASE IF EXISTS {db['name']}")


# ---- the runs ---------------------------------------------------------------------


def measure(target, config, plain, migrate_bin, runs, n, env):
    times = {"migrate": [], "client": []}
    for round_ in range(runs + 1):
        for who in ("migrate", "client"):
            db = target.new()
            if who == "migrate":
                took = timed([migrate_bin, "-q", "-c", config, "--database-url", db["url"], "upgrade", "head"], env=env)
            else:
                cmd, stdin = target.client(db, plain)
                took = timed(cmd, env=env, stdin_path=stdin)
            if round_ == 0:
                got = target.rows(db)
                if got != n:
                    sys.exit(f"{who} on {target.name}: {got} rows after the run, expected {n}")
            else:
                times[who].append(took)
            target.drop(db)
    return times


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(target, client, times):
    ratios = sorted(m / c for m, c in zip(times["migrate"], times["client"]))
    print(
        f"| {target.name} | {fmt(statistics.median(times['migrate']))} | {client}: {fmt(statistics.median(times['client']))} "
        f"| {statistics.median(ratios):.2f}x ({ratios[0]:.2f}–{ratios[-1]:.2f}) |"
    )
    sys.stdout.flush()


def version(cmd):
    r = run(cmd, check=False)
    out = (r.stdout or r.stderr).strip()
    return out.splitlines()[0] if out else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100_000, help="rows, one INSERT each (default 100000)")
    ap.add_argument("--runs", type=int, default=5, help="paired rounds after the warm-up (default 5)")
    ap.add_argument("--postgres", default=os.environ.get("MIGRATE_TEST_POSTGRES_URL"), help="admin URL")
    ap.add_argument("--mysql", default=os.environ.get("MIGRATE_TEST_MYSQL_URL"), help="admin URL")
    ap.add_argument("--only", default="sqlite,postgres,mysql", help="comma-separated databases")
    args = ap.parse_args()

    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT)
    migrate_bin = os.path.join(target_dir, "release", "migrate")

    work = tempfile.mkdtemp(prefix="bench-statements-")
    env = dict(os.environ, MIGRATE_CACHE_DIR=os.path.join(work, "cache"))
    env.pop("DATABASE_URL", None)
    try:
        config, plain = generate(work, args.n, migrate_bin)
        head = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=False).stdout.strip()
        only = args.only.split(",")
        targets = []
        if "sqlite" in only:
            targets.append((Sqlite(os.path.join(work, "sqlite")), "sqlite3", ["sqlite3", "--version"]))
            os.makedirs(os.path.join(work, "sqlite"))
        if "postgres" in only and args.postgres:
            targets.append((Postgres(args.postgres), "psql -f", ["psql", "--version"]))
        if "mysql" in only and args.mysql:
            targets.append((Mysql(args.mysql), "mariadb <", ["mariadb", "--version"]))
        for name, url, flag in (("postgres", args.postgres, "--postgres"), ("mysql", args.mysql, "--mysql")):
            if name in only and not url:
                print(f"{name}: not measured (no admin URL: {flag} or MIGRATE_TEST_{name.upper()}_URL)")
        print(f"one migration of {args.n} one-row INSERTs; medians of {args.runs} paired rounds; whole processes")
        print("versions: " + "; ".join(
            [version([migrate_bin, "--version"]) + f" (built from {head}{', with uncommitted changes' if dirty else ''})"]
            + [version(v) for _, _, v in targets]
        ))
        print("\n| database | migrate upgrade head | its client | migrate / client (lowest–highest) |")
        print("|---|---:|---:|---:|")
        for target, client, _ in targets:
            report(target, client, measure(target, config, plain, migrate_bin, args.runs, args.n, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

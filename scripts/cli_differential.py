#!/usr/bin/env python3
"""Differential test: the `migrate` command line against the `alembic` command line.

How to run (from the workspace root; needs cargo and python3 with alembic 1.x):

    python3 scripts/cli_differential.py                   # 100 sessions of 12 commands
    python3 scripts/cli_differential.py -n 300 --seed 7 --steps 20
    python3 scripts/cli_differential.py --show 12          # print graph 12's session

It is not part of `cargo test` because it needs Python and Alembic. Where
`alembic_differential.py` compares the revision graph's plans, this one compares what
the two tools do to a real SQLite database: it builds the same random revision graph as
an Alembic project (`op.execute("SELECT 1")` to upgrade, `SELECT 2` to downgrade) and as
a `migrate` project (the same statements in its sections), runs the same random sequence of `upgrade`, `downgrade`
and `stamp` commands (absolute, relative, `label@head`, `label@-1`, `heads`, `base`,
`--purge`), `revision` (`--head`, `--splice`, `--branch-label`, `--depends-on`) and
`merge heads`, with `current`, `heads [--resolve-dependencies]`, `branches`,
`history -i`, `history -r from:to`, `show` and the `-v` forms between them on both, and after every command compares:

- success or failure (messages are not compared);
- what the listing commands print (as sets of lines: Alembic's orders there come
  from Python sets);
- the offline scripts of `upgrade --sql`, `downgrade --sql` and `stamp --sql` for
  PostgreSQL or MySQL, in one transaction or one per migration (chosen per session); where
  only the order of steps differs (Alembic's order among several dependencies comes
  from a Python set), that is counted as a known difference;
- the version table's rows;
- the `Running ...` lines both print, as sets (their order is compared by
  `alembic_differential.py`, which knows where Alembic's order is arbitrary);
- after `revision` and `merge`, the whole `history`.

Known differences are counted, not reported: `downgrade -N` from several heads
(Alembic warns and picks one; `migrate` refuses), an offline `from:to` whose `from`
names several revisions (`heads`; Alembic wants one, `migrate` starts from all of
them), `merge heads` with a single head (Alembic writes an ordinary revision,
`migrate` refuses), `history -r current:current` (Alembic resolves only one side's
`current`; `migrate` lists the current revisions), `history -r X:current` on an
empty database (Alembic reads the empty `current` as `heads`; `migrate` as `base`,
so the range is empty or fails), and commands on which Alembic crashes with an internal error (an AssertionError
or a KeyError in its version-table upkeep). After one, Alembic's table is stamped to
match ours (and a revision only Alembic wrote is removed) and the session goes on. A session stops at its first unexplained
difference. Exits 1 if there was any.
"""

import argparse
import contextlib
import io
import logging
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import warnings
from collections import Counter

if "PYTHONHASHSEED" not in os.environ:
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.util import CommandError  # noqa: E402
from alembic_differential import ROOT, Graph  # noqa: E402

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
per_migration = config.get_main_option("per_migration") == "1"
if context.is_offline_mode():
    context.configure(
        url=url,
        literal_binds=True,
        output_buffer=config.attributes["buffer"],
        transaction_per_migration=per_migration,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=per_migration)
        with context.begin_transaction():
            context.run_migrations()
"""

# What `alembic revision` writes: the same statements as the generated files.
MAKO = '''"""${message}"""
from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    pass


def downgrade():
    pass
'''

# Offline scripts are compared for PostgreSQL (transactional DDL) or MySQL (none),
# chosen per session; not for SQLite, whose DDL Alembic treats as non-transactional.
# (Alembic's URL first, ours second.)
OFFLINE_URLS = [
    ("postgresql://app@localhost/app", "postgres://app@localhost/app"),
    ("mysql://app@localhost/app", "mysql://app@localhost/app"),
]


def py_tuple(names):
    if not names:
        return "None"
    if len(names) == 1:
        return repr(names[0])
    return "(" + ", ".join(repr(n) for n in names) + ")"


def write_projects(g, root, per_migration, offline_url):
    """The graph as an Alembic project in root/al and a migrate project in root/ours."""
    al, ours = os.path.join(root, "al"), os.path.join(root, "ours")
    os.makedirs(os.path.join(al, "env", "versions"))
    os.makedirs(os.path.join(ours, "migrations"))
    with open(os.path.join(al, "env", "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(al, "env", "script.py.mako"), "w") as f:
        f.write(MAKO)
    with open(os.path.join(ours, "migrate.toml"), "w") as f:
        f.write('script_location = "migrations"\n')
        f.write('database_url = "sqlite://%s"\n' % os.path.join(ours, "ours.db"))
        f.write("transaction_per_migration = %s\n" % ("true" if per_migration else "false"))
    for i in g.order:
        rev = "r%d" % i
        parents = ["r%d" % p for p in g.parents[i]]
        labels = ["lb%d" % i] if g.labelled[i] else []
        with open(os.path.join(al, "env", "versions", rev + ".py"), "w") as f:
            f.write('"""%s"""\n' % rev)
            f.write("revision = %r\n" % rev)
            f.write("down_revision = %s\n" % py_tuple(parents))
            f.write("branch_labels = %s\n" % py_tuple(labels))
            f.write("depends_on = %s\n" % py_tuple(g.deps[i]))
            f.write("\nfrom alembic import op\n\n\ndef upgrade():\n    op.execute('SELECT 1')\n")
            f.write("\n\ndef downgrade():\n    op.execute('SELECT 2')\n")
        with open(os.path.join(ours, "migrations", rev + ".sql"), "w") as f:
            f.write("-- %s\n--\n-- revision: %s\n" % (rev, rev))
            f.write("-- down_revision: %s\n" % ", ".join(parents))
            f.write("-- branch_labels: %s\n" % ", ".join(labels))
            f.write("-- depends_on: %s\n" % ", ".join(g.deps[i]))
            f.write("\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 2;\n")
    cfgs = []
    for url in ("sqlite:///" + os.path.join(al, "al.db"), offline_url):
        cfg = Config()
        cfg.set_main_option("script_location", os.path.join(al, "env"))
        cfg.set_main_option("sqlalchemy.url", url)
        cfg.set_main_option("per_migration", "1" if per_migration else "0")
        cfgs.append(cfg)
    return cfgs, ours


def rows(db):
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Running "):
            self.lines.append(msg)


def run_alembic(cfgs, args, lines):
    """('ok' | 'err' | 'crash', detail, warned about several heads, stdout)."""
    lines.lines = []
    verb, rest = args[0], [a for a in args[1:] if a != "--sql"]
    if verb == "heads" and "--resolve-dependencies" in rest:
        verb = "heads-deps"
    sql = "--sql" in args
    cfg = cfgs[1] if sql else cfgs[0]
    cfg.stdout = io.StringIO()
    cfg.attributes["buffer"] = cfg.stdout
    # `revision` and `merge` print their file names straight to stdout.
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            verbose = "-v" in rest
            if verb == "current":
                command.current(cfg, verbose=verbose)
            elif verb == "heads":
                command.heads(cfg, verbose=verbose)
            elif verb == "branches":
                command.branches(cfg, verbose=verbose)
            elif verb == "history":
                rng_ = rest[rest.index("-r") + 1] if "-r" in rest else None
                command.history(cfg, rev_range=rng_, verbose=verbose, indicate_current="-i" in rest)
            elif verb == "show":
                command.show(cfg, rest[0])
            elif verb == "heads-deps":
                command.heads(cfg, resolve_dependencies=True)
            elif verb in ("revision", "merge"):
                opts = {}
                positional = []
                it = iter(rest)
                for a in it:
                    if a == "--splice":
                        opts["splice"] = True
                    elif a.startswith("-"):
                        opts[a] = next(it)
                    else:
                        positional.append(a)
                if verb == "merge":
                    command.merge(cfg, positional, message=opts["-m"], rev_id=opts["--rev-id"])
                else:
                    command.revision(
                        cfg,
                        message=opts["-m"],
                        rev_id=opts["--rev-id"],
                        head=opts.get("--head", "head"),
                        splice=opts.get("splice", False),
                        branch_label=opts.get("--branch-label"),
                        depends_on=opts.get("--depends-on"),
                    )
            elif verb == "upgrade":
                command.upgrade(cfg, rest[0], sql=sql)
            elif verb == "downgrade":
                command.downgrade(cfg, rest[0], sql=sql)
            else:
                purge = "--purge" in rest
                command.stamp(cfg, [r for r in rest if r != "--purge"], sql=sql, purge=purge)
            outcome = ("ok", "")
        except CommandError as e:
            outcome = ("err", str(e))
        except Exception as e:  # Alembic's own failures (KeyError, AssertionError...)
            outcome = ("crash", "%s: %s" % (type(e).__name__, e))
    warned = any("from multiple heads is ambiguous" in str(w.message) for w in caught)
    return outcome + (warned, cfg.stdout.getvalue())


def run_ours(binary, project, args, offline_url):
    url = ["--database-url", offline_url] if "--sql" in args else []
    p = subprocess.run(
        [binary] + url + args, cwd=project, capture_output=True, text=True, env=ENV
    )
    out = [line for line in p.stderr.splitlines() if line.startswith("Running ")]
    return ("ok" if p.returncode == 0 else "err"), p.stderr.strip(), out, p.stdout


def canonical(line):
    """A `Running ...` line with the names on each side of `->` sorted: Alembic lists
    them in the order the database returned the rows. (The right side ends with the
    message, the revision's name here, which sorts along harmlessly.)"""
    words = line.split(" ", 2)
    if len(words) < 3 or " -> " not in words[2]:
        return line
    left, right = words[2].split(" -> ", 1)
    return "%s %s %s -> %s" % (words[0], words[1], sorted(left.split(", ")), sorted(right.split(", ")))


def offline(text):
    """An offline script with each run of version-table statements replaced by its net
    effect on the rows. Where a step leaves several rows (an unmerge), Alembic picks
    which parent the UPDATE moves to and which is INSERTed in Python set order; the
    rows that result are what matters. Everything else is compared as printed."""
    out, effect = [], Counter()

    def flush():
        if effect:
            out.append(("rows", tuple(sorted((k, v) for k, v in effect.items() if v))))
            effect.clear()

    for chunk in text.strip().split("\n\n"):
        m = re.match(r"INSERT INTO alembic_version \(version_num\) VALUES \('([^']*)'\)", chunk)
        if m:
            effect[m.group(1)] += 1
            continue
        m = re.match(r"DELETE FROM alembic_version WHERE alembic_version.version_num = '([^']*)'", chunk)
        if m:
            effect[m.group(1)] -= 1
            continue
        m = re.match(r"UPDATE alembic_version SET version_num='([^']*)' WHERE alembic_version.version_num = '([^']*)'", chunk)
        if m:
            effect[m.group(1)] += 1
            effect[m.group(2)] -= 1
            continue
        flush()
        out.append(chunk)
    flush()
    return out


def offline_unordered(text):
    """The same script with the order of its steps left out: the steps (comment and
    SQL) as a multiset, the net effect of all version-table statements, and the
    transaction statements. Where a revision has two or more dependencies, Alembic's
    order among them comes from a Python set (`alembic_differential.py` checks that
    ours respects every edge)."""
    steps, net, other = [], Counter(), []
    for item in offline(text):
        if isinstance(item, tuple):
            for name, n in item[1]:
                net[name] += n
        elif item.startswith("-- Running "):
            steps.append([item])
        elif item in ("BEGIN;", "COMMIT;") or not steps:
            other.append(item)
        else:
            steps[-1].append(item)
    return sorted(map(tuple, steps)), sorted((k, v) for k, v in net.items() if v), other


def listing(verb, text):
    """What a listing says, without the orders Alembic takes from Python sets: lines
    (and `branches` blocks, and each block's children) sorted, and every parenthesised
    list (branch labels, dependencies) and `-v` list of children or labels sorted.
    `history` order is compared by `alembic_differential.py`."""

    def sort_lists(line):
        for key in ("Branches into: ", "Branch names: "):
            if line.startswith(key):
                return key + ", ".join(sorted(line[len(key):].split(", ")))
        return re.sub(
            r"\(([^()]*)\)", lambda m: "(" + ", ".join(sorted(m.group(1).split(", "))) + ")", line
        )

    # In `-v` blocks, paths and the documentation (Alembic shows the module's
    # docstring, we show the message) necessarily differ, as does the URL's spelling.
    lines = [
        sort_lists(line)
        for line in text.strip().splitlines()
        if not line.startswith(("Path: ", "    ", "Current revision(s) for "))
    ]
    if verb == "branches":
        blocks = [b.splitlines() for b in "\n".join(lines).split("\n\n") if b.strip()]
        return sorted(b[:1] + sorted(b[1:]) for b in blocks)
    return sorted(lines)


def next_command(rng, revs, labels, fresh):
    """One random command over the revisions and labels there are now; `fresh` is the
    id a new revision gets."""
    k = rng.randrange(19)
    if k < 2:
        return ["upgrade", rng.choice(["heads", "head"])]
    if k < 5:
        return ["upgrade", rng.choice(revs)]
    if k == 5:
        return ["upgrade", rng.choice(["+1", "+2"])]
    if k == 6 and labels:
        return ["upgrade", rng.choice(labels) + "@head"]
    if k < 8:
        return ["downgrade", rng.choice(["base", "-1"])]
    if k < 10:
        return ["downgrade", rng.choice(revs)]
    if k == 10 and labels:
        return ["downgrade", rng.choice(labels) + "@-1"]
    if k < 13:
        return ["stamp", rng.choice(revs + ["heads", "base"])]
    if k == 13:
        return ["stamp", "--purge", rng.choice(revs)]
    if k == 14:
        ends = revs + ["base", "heads", "current"] + [lb + "@head" for lb in labels]
        a, b = rng.choice(ends + [""]), rng.choice(ends + [""])
        return rng.choice([
            ["current"],
            ["heads"],
            ["heads", "--resolve-dependencies"],
            ["branches"],
            ["history", "-i"],
            ["history", "-r", "%s:%s" % (a, b)],
            [rng.choice(["current", "heads", "branches", "history"]), "-v"],
            ["show", rng.choice(revs + ["head", "heads", "base"] + [lb + "@head" for lb in labels])],
        ])
    if k == 15:
        a, b = rng.choice(revs + ["base"]), rng.choice(revs + ["heads"])
        return rng.choice([
            ["upgrade", "--sql", "%s:%s" % (a, b)],
            ["downgrade", "--sql", "%s:%s" % (b, a)],
            ["stamp", "--sql", rng.choice(revs + ["heads"])],
            ["stamp", "--sql", "%s:%s" % (a, b)],
        ])
    if k == 16:
        cmd = ["revision", "-m", fresh, "--rev-id", fresh]
        if rng.random() < 0.7:
            heads = ["head", "base"] + revs + [lb + "@head" for lb in labels]
            cmd += ["--head", rng.choice(heads)]
        if rng.random() < 0.3:
            cmd.append("--splice")
        if rng.random() < 0.3:
            cmd += ["--branch-label", "lb" + fresh[1:]]
        if rng.random() < 0.2:
            cmd += ["--depends-on", rng.choice(revs + labels)]
        return cmd
    if k == 17:
        return ["merge", "-m", fresh, "--rev-id", fresh, "heads"]
    return ["upgrade", "heads"]


def session(idx, seed, args, binary, lines, show):
    """Runs one graph's commands on both; returns (kind, detail) per command, kind being
    `agree`, `mismatch`, `alembic-crash` or `several-heads`. After a known difference
    Alembic's table is stamped to ours and the session goes on; after a mismatch it
    stops."""
    rng = random.Random("%d-%d" % (seed, idx))
    g = Graph(rng, args.max_revs)
    events = []
    with tempfile.TemporaryDirectory() as tmp:
        al_url, our_url = rng.choice(OFFLINE_URLS)
        cfgs, ours = write_projects(g, tmp, rng.random() < 0.5, al_url)
        h = subprocess.run([binary, "-q", "hash"], cwd=ours, capture_output=True, text=True, env=ENV)
        if h.returncode != 0:
            return [("mismatch", "graph %d: migrate hash failed: %s" % (idx, h.stderr.strip()))]
        al_db, our_db = os.path.join(tmp, "al", "al.db"), os.path.join(ours, "ours.db")
        revs = ["r%d" % i for i in range(g.n)]
        labels = ["lb%d" % i for i in range(g.n) if g.labelled[i]]
        for n in range(args.steps):
            cmd = next_command(rng, revs, labels, "r%d" % len(revs))
            a_status, a_detail, warned, a_out = run_alembic(cfgs, cmd, lines)
            a_lines = list(lines.lines)
            o_status, o_detail, o_lines, o_out = run_ours(binary, ours, cmd, our_url)
            a_rows, o_rows = rows(al_db), rows(our_db)
            if show:
                print("$ %s\n  alembic %s %s %s\n  migrate %s %s %s" % (
                    " ".join(cmd), a_status, a_rows, a_detail, o_status, o_rows, o_detail))
            where = "graph %d, command %d `%s`" % (idx, n + 1, " ".join(cmd))
            known = None
            if a_status == "crash":
                known = ("alembic-crash", "%s: Alembic %s; migrate %s" % (where, a_detail, o_status))
            elif a_status == "ok" and o_status == "err" and warned and "multiple heads" in o_detail:
                known = ("several-heads", where)
            elif cmd[:3] == ["history", "-r", "current:current"] and a_status == "err":
                known = ("history-current-both", where)
            elif (
                cmd[:2] == ["history", "-r"]
                and cmd[2].endswith(":current")
                and not o_rows
                and (a_status, a_out) != (o_status, o_out)
            ):
                known = ("history-to-empty-current", where)
            elif cmd[0] == "merge" and a_status == "ok" and "at least two distinct" in o_detail:
                known = ("merge-one-head", where)
            elif (
                "--sql" in cmd
                and a_status == "err"
                and o_status == "ok"
                and "Multiple head revisions" in a_detail
            ):
                known = ("sql-start-several", where)
            if known:
                events.append(known)
                if known[0] == "merge-one-head":
                    # Alembic wrote a revision that we refused: take it back.
                    for f in os.listdir(os.path.join(tmp, "al", "env", "versions")):
                        if f.startswith(cmd[2] + "_"):
                            os.remove(os.path.join(tmp, "al", "env", "versions", f))
                command.stamp(cfgs[0], o_rows or ["base"], purge=True)
                continue
            if a_status != o_status:
                events.append(("mismatch", "%s: alembic %s (%s), migrate %s (%s)" % (
                    where, a_status, a_detail, o_status, o_detail)))
            elif a_rows != o_rows:
                events.append(("mismatch", "%s: rows alembic %s, migrate %s" % (where, a_rows, o_rows)))
            elif (
                a_status == "ok"
                and "--sql" in cmd
                and offline(a_out) != offline(o_out)
                and offline_unordered(a_out) == offline_unordered(o_out)
            ):
                events.append(("sql-step-order", where))
                continue
            elif a_status == "ok" and "--sql" in cmd and offline(a_out) != offline(o_out):
                events.append(("mismatch", "%s: alembic printed\n%s\nmigrate printed\n%s" % (
                    where, a_out.rstrip(), o_out.rstrip())))
            elif (
                "--sql" not in cmd
                and cmd[0] not in ("revision", "merge")
                and listing(cmd[0], a_out) != listing(cmd[0], o_out)
            ):
                events.append(("mismatch", "%s: alembic printed\n%s\nmigrate printed\n%s" % (
                    where, a_out.rstrip(), o_out.rstrip())))
            elif sorted(map(canonical, a_lines)) != sorted(map(canonical, o_lines)):
                events.append(("mismatch", "%s: alembic ran %s, migrate ran %s" % (where, a_lines, o_lines)))
            elif a_status == "ok" and cmd[0] in ("revision", "merge"):
                # The new revision must sit in the same place in both graphs.
                revs.append(cmd[2])
                if "--branch-label" in cmd:
                    labels.append(cmd[cmd.index("--branch-label") + 1])
                _, _, _, a_hist = run_alembic(cfgs, ["history"], lines)
                _, _, _, o_hist = run_ours(binary, ours, ["history"], our_url)
                if listing("history", a_hist) != listing("history", o_hist):
                    events.append(("mismatch", "%s: history after it, alembic\n%s\nmigrate\n%s" % (
                        where, a_hist.rstrip(), o_hist.rstrip())))
                    break
                events.append(("agree", None))
                continue
            else:
                events.append(("agree", None))
                continue
            break
    return events


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100, help="number of graphs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=12, help="commands per graph")
    ap.add_argument("--max-revs", type=int, default=12)
    ap.add_argument("--show", type=int, help="print every command of this graph")
    ap.add_argument("--binary", help="a `migrate` binary to test instead of building one")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the known differences too")
    args = ap.parse_args()

    binary = os.path.abspath(args.binary) if args.binary else None
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "migrate-cli"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        binary = os.path.join(target, "release", "migrate")

    lines = Lines()
    logging.getLogger("alembic.runtime.migration").addHandler(lines)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)

    graphs = [args.show] if args.show is not None else range(args.n)
    counts = {}
    mismatches = []
    for idx in graphs:
        for kind, detail in session(idx, args.seed, args, binary, lines, args.show is not None):
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "mismatch":
                mismatches.append(detail)
                print("MISMATCH " + detail)
            elif args.verbose and detail:
                print("%s %s" % (kind, detail))
    print("commands: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    return 1 if mismatches else 0


# The parse cache is left out: every session is a new folder.
ENV = dict(os.environ, MIGRATE_NO_CACHE="1")

if __name__ == "__main__":
    sys.exit(main())

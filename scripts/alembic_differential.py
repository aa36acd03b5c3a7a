#!/usr/bin/env python3
"""Differential test: migrate-core's upgrade/downgrade/history orders against Alembic's.

How to run (from the workspace root; needs cargo and python3 with alembic 1.x):

    python3 scripts/alembic_differential.py                  # 300 graphs, seed 1
    python3 scripts/alembic_differential.py -n 1000 --seed 7 --max-revs 40
    python3 scripts/alembic_differential.py --dump 12        # print graph 12's input

It is not part of `cargo test` because it needs Python and Alembic. It generates N
random valid revision graphs (seeded: same seed, same graphs), asks Alembic's
`alembic.script.revision.RevisionMap` and migrate-core's `plan_dump` example the same
queries, compares, prints every mismatch, and exits 1 if there is any (0 otherwise).

For each graph the queries are: upgrade base -> heads, history, upgrade base -> <rev>,
and from a reachable state S (the rows after Alembic upgrades base -> <rev>): upgrade
S -> <rev>, S -> heads, S -> <label>@head, S -> +1; downgrade S -> <rev>, S -> base,
S -> -1.

Alembic's side, as `alembic upgrade/downgrade` computes it:
  upgrade:   reversed(iterate_revisions(target, current, implicit_base=True))
  downgrade: iterate_revisions(current, target, select_for_downgrade=True)
  history:   iterate_revisions("heads", "base", inclusive=True, assert_relative_length=False)
and the version-table rows after each step come from Alembic's own
`HeadMaintainer.update_to_step` and `RevisionStep`, with the three row operations
redirected to a Python set instead of a database.

Compared: success or failure (error messages are not compared); on success the order,
the rows after every step and the rows at the end. Where Alembic's order depends on
Python set iteration - a revision in the plan with two or more normalized dependencies
(`_normalized_resolved_dependencies` is built from a set) - that query is compared as
a partial order: same revisions, our order respects every parent and dependency edge,
same final rows. Such queries are counted and reported as "partial".

The script re-executes itself with PYTHONHASHSEED=0 (unless set) so runs repeat.
Set CARGO_TARGET_DIR as usual to pick the build directory.
"""

import argparse
import os
import random
import subprocess
import sys
import types

if "PYTHONHASHSEED" not in os.environ:
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

from alembic.runtime.migration import HeadMaintainer, RevisionStep  # noqa: E402
from alembic.script.revision import Revision, RevisionMap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- random graphs -------------------------------------------------------------------


class Graph:
    """Revision i is r{i}; i is topological (parents and deps have smaller indexes)."""

    def __init__(self, rng, max_revs):
        n = rng.randint(1, max_revs)
        self.n = n
        self.parents = [[] for _ in range(n)]
        self.deps = [[] for _ in range(n)]  # written names: r{j} or lb{j}
        self.labelled = [rng.random() < 0.2 for _ in range(n)]
        for i in range(1, n):
            kind = rng.randrange(10)
            want = 0 if kind < 2 else (1 if kind < 8 else 2)
            for _ in range(want):
                p = rng.randrange(i)
                if p not in self.parents[i]:
                    self.parents[i].append(p)
            k = rng.randrange(10)
            want = 0 if k < 7 else (1 if k < 9 else 2)
            dep_idx = []
            for _ in range(want):
                d = rng.randrange(i)
                if d not in self.parents[i] and d not in dep_idx:
                    dep_idx.append(d)
            for d in dep_idx:
                by_label = self.labelled[d] and rng.random() < 0.5
                self.deps[i].append("lb%d" % d if by_label else "r%d" % d)
        self.order = list(range(n))
        rng.shuffle(self.order)

    def lines(self):
        out = []
        for i in self.order:
            words = ["rev", "r%d" % i]
            if self.parents[i]:
                words.append("down=" + ",".join("r%d" % p for p in self.parents[i]))
            if self.deps[i]:
                words.append("deps=" + ",".join(self.deps[i]))
            if self.labelled[i]:
                words.append("labels=lb%d" % i)
            out.append(" ".join(words))
        return out

    def alembic_map(self):
        def revisions():
            for i in self.order:
                down = tuple("r%d" % p for p in self.parents[i])
                rev = Revision(
                    "r%d" % i,
                    down if len(down) > 1 else (down[0] if down else None),
                    dependencies=tuple(self.deps[i]) or None,
                    branch_labels=("lb%d" % i,) if self.labelled[i] else None,
                )
                # RevisionStep looks for the module's upgrade/downgrade functions.
                rev.module = types.SimpleNamespace(upgrade=None, downgrade=None)
                yield rev

        rmap = RevisionMap(revisions)
        rmap.heads  # builds the map, raising on an invalid graph
        return rmap


# ---- Alembic's answers ------------------------------------------------------------------


class Rows(HeadMaintainer):
    """Alembic's HeadMaintainer with the version table replaced by its set of heads."""

    def __init__(self, heads):
        self.heads = set(heads)

    def _insert_version(self, version):
        assert version not in self.heads, "insert of present row %s" % version
        self.heads.add(version)

    def _delete_version(self, version):
        self.heads.remove(version)

    def _update_version(self, from_, to_):
        assert to_ not in self.heads, "update onto present row %s" % to_
        self.heads.remove(from_)
        self.heads.add(to_)


def fmt_rows(rows):
    return ",".join(sorted(rows)) if rows else "-"


def alembic_answer(rmap, kind, current, target):
    """('ok', order, per-step rows, final rows, partial), ('err', message), or
    ('crash', order, message, partial) when the order was computed but applying it to
    the version table raised inside Alembic."""
    try:
        if kind == "history":
            revs = list(
                rmap.iterate_revisions(
                    "heads", "base", inclusive=True, assert_relative_length=False
                )
            )
            order = [r.revision for r in revs]
            partial = any(len(r._normalized_resolved_dependencies) > 1 for r in revs)
            return ("ok", order, None, None, partial)
        if kind == "upgrade":
            revs = list(rmap.iterate_revisions(target, tuple(current), implicit_base=True))
            revs.reverse()
        else:
            revs = list(
                rmap.iterate_revisions(tuple(current), target, select_for_downgrade=True)
            )
        order = [r.revision for r in revs]
        partial = any(len(r._normalized_resolved_dependencies) > 1 for r in revs)
        rows = Rows(current)
        steps = []
        for r in revs:
            try:
                rows.update_to_step(RevisionStep(rmap, r, kind == "upgrade"))
            except Exception as e:
                # Alembic computed the order but crashes moving the version table
                # (e.g. KeyError deleting a row that is not there).
                return ("crash", order, "%s: %s at %s" % (type(e).__name__, e, r.revision), partial)
            steps.append(fmt_rows(rows.heads))
        return ("ok", order, steps, fmt_rows(rows.heads), partial)
    except Exception as e:  # every Alembic failure counts as "refused"
        return ("err", "%s: %s" % (type(e).__name__, e))


# ---- queries ------------------------------------------------------------------------------


def make_queries(g, rmap, rng):
    revs = ["r%d" % i for i in range(g.n)]
    qs = [("upgrade", [], "heads"), ("history", None, None)]
    qs.append(("upgrade", [], rng.choice(revs)))
    start = alembic_answer(rmap, "upgrade", [], rng.choice(revs))
    if start[0] == "ok":
        state = sorted(start[3].split(",")) if start[3] != "-" else []
        qs += [
            ("upgrade", state, rng.choice(revs)),
            ("upgrade", state, "heads"),
            ("downgrade", state, rng.choice(revs)),
            ("downgrade", state, "base"),
            ("upgrade", state, "+1"),
            ("downgrade", state, "-1"),
        ]
        labels = ["lb%d" % i for i in range(g.n) if g.labelled[i]]
        if labels:
            qs.append(("upgrade", state, rng.choice(labels) + "@head"))
        if state:
            applied = [r.revision for r in rmap._get_ancestor_nodes(rmap.get_revisions(state))]
            qs.append(("downgrade", state, rng.choice(sorted(applied))))
    return qs


def query_line(kind, current, target):
    if kind == "history":
        return "history"
    return "%s %s-> %s" % (kind, "".join(c + " " for c in current), target)


# ---- comparison ---------------------------------------------------------------------------


def respects_edges(rmap, kind, order):
    """Whether every revision comes after (upgrade) / before (downgrade) the parents
    and dependencies that are in the plan too."""
    pos = {r: i for i, r in enumerate(order)}
    for r in order:
        for d in rmap.get_revision(r)._normalized_down_revisions:
            if d in pos and (pos[d] > pos[r] if kind == "upgrade" else pos[d] < pos[r]):
                return False
    return True


def rows_consistent(rmap, kind, current, ours):
    """Our rows after each step cover exactly the revisions applied so far."""

    def closure(rows):
        if not rows:
            return set()
        return {r.revision for r in rmap._get_ancestor_nodes(rmap.get_revisions(rows))}

    applied = closure(current)
    for rev, after in zip(ours[1].split(), ours[2].split(";")):
        if kind == "upgrade":
            applied.add(rev)
        else:
            applied.discard(rev)
        rows = [] if after == "-" else after.split(",")
        if closure(rows) != applied or not set(rows) <= applied:
            return "rows %s after %s do not cover the applied set %s" % (
                after,
                rev,
                fmt_rows(applied),
            )
    return None


def compare(rmap, kind, current, ours, theirs):
    """None when they agree, else a description."""
    if theirs[0] == "crash":
        # Only the order can be compared; our rows must at least be consistent.
        if ours[0] == "err":
            return "alembic crashed (%s); ours refused: %s" % (theirs[2], ours[1])
        order = ours[1].split()
        if theirs[3]:
            same = sorted(order) == sorted(theirs[1]) and respects_edges(rmap, kind, order)
        else:
            same = order == theirs[1]
        if not same:
            return "order (alembic crashed afterwards: %s)\n    alembic: %s\n    ours:    %s" % (
                theirs[2],
                " ".join(theirs[1]),
                " ".join(order),
            )
        return rows_consistent(rmap, kind, current, ours)
    if theirs[0] == "err" or ours[0] == "err":
        if theirs[0] == ours[0]:
            return None
        return "alembic: %s\n    ours:    %s" % (
            theirs[1] if theirs[0] == "err" else "ok " + " ".join(theirs[1]),
            ours[1] if ours[0] == "err" else "ok " + ours[1],
        )
    order = ours[1].split()
    _, a_order, a_steps, a_final, partial = theirs
    if kind == "history":
        o_steps = o_final = None
    else:
        o_steps = ours[2].split(";") if ours[2] else []
        o_final = ours[3]
    if partial:
        if sorted(order) != sorted(a_order):
            return "partial: different revisions\n    alembic: %s\n    ours:    %s" % (
                " ".join(a_order),
                " ".join(order),
            )
        if not respects_edges(rmap, "downgrade" if kind == "history" else kind, order):
            return "partial: our order breaks an edge: %s" % " ".join(order)
        if o_final != a_final:
            return "partial: final rows alembic %s ours %s" % (a_final, o_final)
        return None
    if order != a_order:
        return "order\n    alembic: %s\n    ours:    %s" % (" ".join(a_order), " ".join(order))
    if o_steps != a_steps:
        return "rows after each step\n    alembic: %s\n    ours:    %s" % (
            " ; ".join(a_steps or []),
            " ; ".join(o_steps or []),
        )
    if o_final != a_final:
        return "final rows alembic %s ours %s" % (a_final, o_final)
    return None


def run_plan_dump(text):
    cmd = ["cargo", "run", "-q", "-p", "migrate-core", "--example", "plan_dump"]
    res = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        sys.exit("plan_dump failed (%d):\n%s" % (res.returncode, res.stderr))
    return res.stdout.splitlines()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--graphs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-revs", type=int, default=40)
    ap.add_argument("--dump", type=int, help="print the plan_dump input of graph N and exit")
    ap.add_argument("--max-shown", type=int, default=30, help="mismatches printed in full")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    graphs, inputs, expected = [], [], []
    for gi in range(args.graphs):
        g = Graph(rng, args.max_revs)
        rmap = g.alembic_map()
        qs = make_queries(g, rmap, rng)
        lines = ["graph", "# graph %d" % gi] + g.lines()
        lines += [query_line(*q) for q in qs]
        if args.dump == gi:
            print("\n".join(lines))
            return 0
        graphs.append((g, rmap))
        inputs.append(lines)
        expected.append([(q, alembic_answer(rmap, q[0], q[1] or [], q[2])) for q in qs])

    out = run_plan_dump("\n".join(line for lines in inputs for line in lines) + "\n")
    total = mismatches = partial = errors_both = crashes = 0
    shown = 0
    pos = 0
    for gi, ((g, rmap), exp) in enumerate(zip(graphs, expected)):
        for q, theirs in exp:
            line = out[pos]
            pos += 1
            fields = line.split("\t")
            assert fields[0] == query_line(*q), (fields[0], q)
            ours = fields[1:]
            total += 1
            partial += theirs[0] != "err" and theirs[-1]
            errors_both += theirs[0] == "err" and ours[0] == "err"
            diff = compare(rmap, q[0], q[1] or [], ours, theirs)
            crashes += theirs[0] == "crash"
            if diff:
                mismatches += 1
                if shown < args.max_shown:
                    shown += 1
                    print("MISMATCH graph %d: %s\n  %s" % (gi, query_line(*q), diff))
                    print("  graph (--dump %d):\n    %s" % (gi, "\n    ".join(g.lines())))
    assert pos == len(out), "plan_dump printed %d lines, expected %d" % (len(out), pos)
    print(
        "%d graphs, %d queries: %d mismatches; %d compared as partial orders; "
        "%d refused by both; %d where Alembic crashed applying its own order "
        "(order compared, our rows checked for consistency)"
        % (args.graphs, total, mismatches, partial, errors_both, crashes)
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

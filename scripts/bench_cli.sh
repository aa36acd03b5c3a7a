#!/usr/bin/env bash
# Whole-process timings of the `migrate` binary on a linear chain of generated revisions
# (1,000 and 10,000 by default) with an SQLite database already at head. The first
# revision creates a table and every other one inserts a row into it (a schema of
# 10,000 tables would measure SQLite's schema loading instead).
#
#   scripts/bench_cli.sh            # 1000 and 10000 revisions
#   scripts/bench_cli.sh 500 2000   # other sizes
#
# Uses hyperfine when installed (`apt-get install -y hyperfine`), else a loop timed with
# `date +%s%N` (mean of RUNS runs). Budget (issue 5): with 1,000 revisions, `heads`,
# `history`, `current` and `upgrade head` (at head) under 10 ms each, offline
# `upgrade base:head --sql` under 20 ms; with 10,000 revisions everything under 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 10000)
RUNS=${RUNS:-30}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release -q -p migrate-cli
BIN="$(cd "$TARGET/release" && pwd)/migrate"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MIGRATE_CACHE_DIR="$WORK/cache"

generate() { # N DIR
  local n=$1 dir=$2
  mkdir -p "$dir/migrations"
  printf 'script_location = "migrations"\ndatabase_url = "sqlite://%s/bench.db"\n' "$dir" > "$dir/migrate.toml"
  awk -v n="$n" -v dir="$dir/migrations" 'BEGIN {
    prev = "";
    for (i = 1; i <= n; i++) {
      rev = sprintf("r%011d", i);
      f = sprintf("%s/%s_step_%d.sql", dir, rev, i);
      if (i == 1) {
        up = "CREATE TABLE bench (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, note VARCHAR(50));";
        down = "DROP TABLE bench;";
      } else {
        up = sprintf("INSERT INTO bench (step, note) VALUES (%d, '\''step %d'\'');", i, i);
        down = sprintf("DELETE FROM bench WHERE step = %d;", i);
      }
      printf "-- step %d\n--\n-- revision: %s\n-- down_revision: %s\n-- branch_labels:\n-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n-- migrate:upgrade\n%s\n\n-- migrate:downgrade\n%s\n", i, rev, prev, up, down > f;
      close(f);
      prev = rev;
    }
  }'
  (cd "$dir" && "$BIN" -q hash >/dev/null && "$BIN" -q upgrade head)
  # Files changed in the last 2 s are never served from the parse cache; let them age,
  # then one run fills the cache (a folder under active editing is re-read per file).
  sleep 2
  (cd "$dir" && "$BIN" heads >/dev/null)
}

measure() { # LABEL COMMAND...
  local label=$1
  shift
  if command -v hyperfine >/dev/null 2>&1; then
    local json="$WORK/h.json"
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" "$*" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%-34s mean %6.2f ms  min %6.2f ms  cpu %6.2f ms" % (sys.argv[2], r["mean"]*1000, r["min"]*1000, (r["user"]+r["system"])*1000))' "$json" "$label"
  else
    "$@" >/dev/null 2>&1
    local total=0 min=999999999999 t0 t1 d
    for _ in $(seq "$RUNS"); do
      t0=$(date +%s%N)
      "$@" >/dev/null 2>&1
      t1=$(date +%s%N)
      d=$((t1 - t0))
      total=$((total + d))
      [ $d -lt $min ] && min=$d
    done
    awk -v l="$label" -v t="$total" -v r="$RUNS" -v m="$min" 'BEGIN { printf "%-34s mean %6.2f ms  min %6.2f ms\n", l, t / r / 1e6, m / 1e6 }'
  fi
}

for n in "${SIZES[@]}"; do
  dir="$WORK/n$n"
  echo "== $n revisions (setup: generate, hash, upgrade head) =="
  generate "$n" "$dir"
  cd "$dir"
  measure "heads" "$BIN" heads
  measure "history" "$BIN" history
  measure "current" "$BIN" current
  measure "upgrade head (at head)" "$BIN" upgrade head
  measure "upgrade base:head --sql" "$BIN" upgrade --sql base:head
  cd - >/dev/null
done

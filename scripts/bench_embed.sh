#!/usr/bin/env bash
# Times what embed_migrations! adds to a crate's build.
#
# Generates versions folders of 1,000 and 10,000 migrations (a linear chain, each file a
# realistic header plus a few lines of upgrade and downgrade SQL, with its migrations.sum),
# builds a tiny crate that embeds them (`static MIGRATIONS = embed_migrations!("migrations")`
# and the build.rs helper), and compares the crate's rebuild time with the same crate
# embedding an empty folder. Dependencies are built once beforehand; each figure is the
# median of RUNS rebuilds of the crate alone (`touch src/main.rs && cargo build`) with
# CARGO_INCREMENTAL=0, so it measures the macro (reading, parsing, validating, hashing)
# plus type-checking, compiling and linking the emitted data, as after a migration was
# added. (With incremental compilation a bare `touch` would reuse the type-checked data,
# which hides most of the cost.)
#
# Usage: scripts/bench_embed.sh [dev|release]    (default: dev, the everyday build)
# Env:   BENCH_DIR (default /tmp/bench-embed), RUNS (default 3), SIZES (default "1000 10000")
# Budgets (issue 3): 1,000 migrations add < 2 s, 10,000 add < 10 s. Exits 1 over budget.
set -euo pipefail

PROFILE="${1:-dev}"
RUNS="${RUNS:-3}"
SIZES="${SIZES:-1000 10000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${BENCH_DIR:-/tmp/bench-embed}"
CRATE="$WORK/crate"
export CARGO_TARGET_DIR="$WORK/target"
export CARGO_INCREMENTAL=0
case "$PROFILE" in
  dev) CARGO_PROFILE_FLAG=() ;;
  release) CARGO_PROFILE_FLAG=(--release) ;;
  *) echo "usage: $0 [dev|release]" >&2; exit 2 ;;
esac

mkdir -p "$CRATE/src" "$WORK/folders"
cat > "$CRATE/Cargo.toml" <<TOML
[package]
name = "embed-bench"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
migrate-runtime = { path = "$ROOT/migrate-runtime" }

[build-dependencies]
migrate-runtime = { path = "$ROOT/migrate-runtime" }
TOML
cp "$ROOT/Cargo.lock" "$CRATE/Cargo.lock"
cat > "$CRATE/build.rs" <<'RS'
fn main() {
    migrate_runtime::build::rerun_if_migrations_changed("migrations");
}
RS
cat > "$CRATE/src/main.rs" <<'RS'
static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("migrations");

fn main() {
    let sql: usize = MIGRATIONS.migrations.iter().map(|m| m.upgrade[0].sql.len()).sum();
    println!("{} migrations, {sql} bytes of upgrade SQL", MIGRATIONS.migrations.len());
}
RS

# generate N: a linear chain of N migrations in $WORK/folders/N, with its migrations.sum.
generate() {
  local n="$1" dir="$WORK/folders/$1"
  if [ -f "$dir/migrations.sum" ]; then return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  local prev="" rev i
  for ((i = 1; i <= n; i++)); do
    printf -v rev '%012x' "$((0x1a2b3c000000 + i))"
    printf -- '-- step %d: add table t%d\n--\n-- revision: %s\n-- down_revision: %s\n-- branch_labels:\n-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n-- migrate:upgrade\nCREATE TABLE t%d (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n);\nCREATE INDEX ix_t%d_name ON t%d (name);\n\n-- migrate:downgrade\nDROP INDEX ix_t%d_name;\nDROP TABLE t%d;\n' \
      "$i" "$i" "$rev" "$prev" "$i" "$i" "$i" "$i" "$i" >"$dir/${rev}_add_table_t$i.sql"
    prev="$rev"
  done
  (cd "$dir" && { find . -name '*.sql' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum; } >migrations.sum)
}

use_folder() {
  rm -rf "$CRATE/migrations"
  cp -r "$WORK/folders/$1" "$CRATE/migrations"
}

build() { (cd "$CRATE" && cargo build --quiet --offline "${CARGO_PROFILE_FLAG[@]}"); }

# median of RUNS rebuilds of the crate alone, in seconds
time_rebuilds() {
  local times=() t0 t1 i
  for ((i = 0; i < RUNS; i++)); do
    touch "$CRATE/src/main.rs"
    t0=$(date +%s.%N)
    build
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}

run_binary() {
  local bin="$CARGO_TARGET_DIR/debug/embed-bench"
  [ "$PROFILE" = release ] && bin="$CARGO_TARGET_DIR/release/embed-bench"
  "$bin"
}

generate 0
for n in $SIZES; do generate "$n"; done

echo "profile: $PROFILE; median of $RUNS rebuilds; $(nproc) cores"
use_folder 0
build # dependencies, once
base=$(time_rebuilds)
echo "empty folder: ${base} s ($(run_binary))"

status=0
for n in $SIZES; do
  use_folder "$n"
  build # first build with the new folder (build script re-run)
  t=$(time_rebuilds)
  extra=$(awk -v a="$base" -v b="$t" 'BEGIN {printf "%.2f", b - a}')
  case "$n" in 1000) budget=2 ;; 10000) budget=10 ;; *) budget="" ;; esac
  verdict=""
  if [ -n "$budget" ]; then
    if awk -v e="$extra" -v b="$budget" 'BEGIN {exit !(e < b)}'; then verdict="within the ${budget} s budget"; else verdict="OVER the ${budget} s budget"; status=1; fi
  fi
  size=$(du -sh "$WORK/folders/$n" | cut -f1)
  printf '%6d migrations (%s): %s s, +%s s %s (%s)\n' "$n" "$size" "$t" "$extra" "$verdict" "$(run_binary)"
done
exit $status

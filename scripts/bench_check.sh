#!/usr/bin/env bash
# Whole-process timings of `migrate check` (the support-desk binary's `migrate check`,
# since its Rust migrations need it) with drift detection on the support-desk
# example (13 migrations, its declared schema in examples/support-desk/schema): the
# database at head, so `check` reads it, replays the migrations into a scratch database,
# loads the declared schema into another, compares the three and drops the scratches.
# Release build, median of RUNS runs (default 9).
#
#   scripts/bench_check.sh                                  # PostgreSQL at MIGRATE_TEST_POSTGRES_URL
#   URL=mysql://root@127.0.0.1:3306/test scripts/bench_check.sh
#   URL=sqlite:///tmp/sd.db scripts/bench_check.sh
#
# Budget (issue 13): under 1 s on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN=${URL:-${MIGRATE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
RUNS=${RUNS:-9}
TARGET=${CARGO_TARGET_DIR:-target}
# support-desk has Rust migrations, which only its own binary can run (and replay): the
# commands are its `migrate` subcommand's, which reads ./migrate.toml as `migrate` does.
cargo build --release -q -p support-desk
APP="$(cd "$TARGET/release" && pwd)/support-desk"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROOT=$(pwd)
cat > "$WORK/migrate.toml" <<EOF
script_location = "$ROOT/examples/support-desk/migrations"
schema_location = "$ROOT/examples/support-desk/schema"
EOF

case "$ADMIN" in
  postgres*)
    DB=bench_check_sd
    psql "$ADMIN" -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
    DB_URL="${ADMIN%/*}/$DB" ;;
  mysql*|mariadb*)
    DB=bench_check_sd
    HOSTPART=${ADMIN#*://}; HOSTPART=${HOSTPART#*@}; HOST=${HOSTPART%%:*}
    mariadb -h "$HOST" -u root -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
    DB_URL="${ADMIN%/*}/$DB" ;;
  *)
    DB_URL=$ADMIN ;;
esac

cd "$WORK"
export MIGRATE_CACHE_DIR="$WORK/cache"
"$APP" migrate -q --database-url "$DB_URL" upgrade head
"$APP" migrate --database-url "$DB_URL" check >/dev/null   # warm-up, and it must pass

times=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s%N)
  "$APP" migrate --database-url "$DB_URL" check >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
echo "migrate check with drift detection, support-desk, ${DB_URL%%:*}: median ${median} ms over $RUNS runs (all: $(echo $sorted | tr '\n' ' '))"

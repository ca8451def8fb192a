#!/usr/bin/env bash
# The whole test suite, as README.md describes it and .ci/run calls it.
#
# Starts a throw-away PostgreSQL cluster (so the storage conformance suite runs on PostgreSQL as
# well as SQLite), then runs every test of the workspace, including the headless-Chromium browser
# tests. Tests that need PostgreSQL or Chromium fail (they never skip) when those are missing:
# install them with
#     apt-get install -y postgresql chromium chromium-driver
set -euo pipefail
cd "$(dirname "$0")/.."

find_pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"; return 0
  fi
  return 1
}

if [ -z "${JIUZHU_TEST_PG_URL:-}" ]; then
  if PG_BIN=$(find_pg_bin); then
    PG_TMP=$(mktemp -d /tmp/jiuzhu-pg.XXXXXX)
    # initdb refuses to run as root; run the cluster as the postgres user then.
    AS=()
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_TMP" postgres
      chown postgres "$PG_TMP"
      AS=(runuser -u postgres --)
    fi
    "${AS[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
      || "${AS[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --locale=C >"$PG_TMP/initdb.log" 2>&1 \
      || { cat "$PG_TMP/initdb.log"; exit 1; }
    started=""
    for _ in 1 2 3 4 5; do
      PG_PORT=$((20000 + RANDOM % 20000))
      if "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -w -t 30 -l "$PG_TMP/server.log" \
           -o "-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
        started=1; break
      fi
    done
    [ -n "$started" ] || { echo "could not start PostgreSQL"; cat "$PG_TMP/server.log"; exit 1; }
    trap '"${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_TMP"' EXIT
    export JIUZHU_TEST_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "throw-away PostgreSQL cluster on port $PG_PORT"
  else
    echo "PostgreSQL not found: the PostgreSQL conformance tests will fail." >&2
    echo "Install it with: apt-get install -y postgresql" >&2
  fi
fi

cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast

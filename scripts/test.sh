#!/usr/bin/env bash
# Quickstart, step two: install what is missing, then run the whole test suite (unit, contract on SQLite and
# PostgreSQL, API, CLI acceptance, Tempest interop). Ends with node's test summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

pg_url=""
cleanup() {
  if [ -n "$pg_url" ]; then bash scripts/pg-test-server.sh stop "$pg_url" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
pg_log=$(mktemp)
if pg_out=$(bash scripts/pg-test-server.sh start 2>"$pg_log"); then
  pg_url=$(printf '%s\n' "$pg_out" | tail -n 1)
  export MONOSTACK_TEST_PG_URL="$pg_url"
else
  echo "warning: could not start a PostgreSQL test server (see $pg_log)" >&2
fi

export MONOSTACK_USER_CLOUDS=0
# Node 20's test runner takes no globs: list the files. Slow real-client suites start first.
mapfile -t slow < <(find test/compat -name '*.test.ts' | sort)
mapfile -t rest < <(find src test/contract test/api test/agent test/e2e test/regressions -name '*.test.ts' 2>/dev/null | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=1200000 "${slow[@]}" "${rest[@]}"

#!/usr/bin/env bash
# Quickstart, step one: install what is missing, then start the all-in-one cloud in the foreground.
# Flags go to `monostack up` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec bin/monostack up "$@"

#!/usr/bin/env bash
# Installs everything Monostack needs on this machine: missing Debian packages, npm dependencies, the build.
# Idempotent and quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-packages.sh

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is required (apt-get install nodejs npm, or NodeSource)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "Node.js 20 or newer is required; this is $(node --version)" >&2
  exit 1
fi

# `npm ci` fails on lockfiles with per-platform optional packages on this registry (see docs/adr/0001);
# `npm install` against the committed lockfile installs the same versions.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build

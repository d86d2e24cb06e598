#!/usr/bin/env bash
# Produces target/dbt/manifest.json from the sample dbt project in
# server/tests/fixtures/dbt_sample, using real dbt (dbt-core + dbt-duckdb).
#
# Idempotent: dbt is installed once into target/dbt-venv, and the project is
# only re-parsed when a fixture file is newer than the manifest.
# Everything dbt writes (manifest, logs, duckdb file) goes under target/, so the
# fixture directory stays clean.
#
# Usage: server/scripts/dbt-manifest.sh [--force]
#   --force     re-parse even if the manifest is up to date
# Environment:
#   PYTHON      interpreter used to create the venv (default: python3)
set -euo pipefail

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dbt-manifest: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROJECT="$ROOT/server/tests/fixtures/dbt_sample"
VENV="$ROOT/target/dbt-venv"
WORK="$ROOT/target/dbt-sample"
OUT_DIR="$ROOT/target/dbt"
MANIFEST="$OUT_DIR/manifest.json"
PYTHON="${PYTHON:-python3}"

START=$(date +%s)
step() { printf '==> %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - START ))s"; }

# 1. Up to date? (manifest newer than every file of the fixture project)
if [ "$FORCE" = 0 ] && [ -f "$MANIFEST" ] &&
   [ -z "$(find "$PROJECT" -type f -newer "$MANIFEST" -print -quit)" ]; then
  step "Manifest is newer than every fixture file, skipping dbt parse: $MANIFEST ($(elapsed))"
  exit 0
fi

# 2. Python venv
if [ -x "$VENV/bin/python" ]; then
  step "Using existing venv: $VENV"
else
  step "Creating Python venv: $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

# 3. dbt
if [ -x "$VENV/bin/dbt" ]; then
  step "dbt already installed: $("$VENV/bin/python" -c 'import importlib.metadata as m; print("dbt-core", m.version("dbt-core"), "/ dbt-duckdb", m.version("dbt-duckdb"))')"
else
  step "Installing dbt-core<1.12 and dbt-duckdb into the venv (about 1 minute)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "dbt-core<1.12" dbt-duckdb
fi

# 4. dbt parse (all output under target/dbt-sample)
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DBT_DUCKDB_PATH="$WORK/sample.duckdb"
mkdir -p "$WORK/target" "$WORK/logs" "$OUT_DIR"
step "Running dbt parse on $PROJECT"
(
  cd "$WORK"
  "$VENV/bin/dbt" --quiet parse \
    --project-dir "$PROJECT" \
    --profiles-dir "$PROJECT" \
    --target-path "$WORK/target" \
    --log-path "$WORK/logs"
) || { echo "dbt-manifest: dbt parse failed, see $WORK/logs/dbt.log" >&2; exit 1; }

# 5. Copy the manifest into place
cp "$WORK/target/manifest.json" "$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
step "Wrote $MANIFEST ($(elapsed))"

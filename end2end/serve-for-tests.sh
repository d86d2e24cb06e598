#!/bin/sh
# Starts the built server on a fresh SQLite database for the browser tests.
set -e
cd "$(dirname "$0")/.."
mkdir -p target/e2e
rm -f target/e2e/rollgate.db target/e2e/rollgate.db-wal target/e2e/rollgate.db-shm
export DATABASE_URL="sqlite://target/e2e/rollgate.db"
export ROLLGATE_PORT="${E2E_PORT:-3100}"
export ROLLGATE_SITE_ROOT="target/site"
export ROLLGATE_SECRET_KEY_FILE="target/e2e/secret.key"
exec ./target/debug/rollgate serve

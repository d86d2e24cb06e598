#!/usr/bin/env bash
# A real Apache Airflow 3 on 127.0.0.1 for Rollgate's integration tests and for trying the
# example DAGs (dags/). Installs from PyPI into a venv on first use; metadata in PostgreSQL (as
# production Airflow runs; the SQLite default answers 500 under concurrent writes).
#
#   airflow.sh start    install if missing, start (idempotent), wait until healthy, print the URL
#   airflow.sh stop     stop every process it started
#   airflow.sh url      print the base URL if it is up (exit 1 otherwise)
#
# Settings: ROLLGATE_AIRFLOW_DIR (default /tmp/rollgate-airflow), ROLLGATE_AIRFLOW_PORT (18181),
# ROLLGATE_AIRFLOW_DB (postgresql+psycopg2://postgres@127.0.0.1:5432/rollgate_airflow),
# ROLLGATE_AIRFLOW_PYTHON (a Python 3.10–3.13). Users: admin/admin, runner/runner (role user).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${ROLLGATE_AIRFLOW_DIR:-/tmp/rollgate-airflow}"
PORT="${ROLLGATE_AIRFLOW_PORT:-18181}"
DB="${ROLLGATE_AIRFLOW_DB:-postgresql+psycopg2://postgres@127.0.0.1:5432/rollgate_airflow}"
VERSION=3.3.2
URL="http://127.0.0.1:$PORT"
VENV="$DIR/venv"
RUN="$DIR/run"
PARTS=(api-server scheduler dag-processor)

say() { echo "[airflow] $*"; }

python_for_venv() {
  for p in "${ROLLGATE_AIRFLOW_PYTHON:-}" python3.11 ~/.pyenv/versions/3.11*/bin/python3.11 python3.12 python3.10 python3; do
    [ -n "$p" ] && command -v "$p" >/dev/null 2>&1 || continue
    "$p" -c 'import sys, venv; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null && { command -v "$p"; return; }
  done
  echo "no Python 3.10–3.13 with venv found: set ROLLGATE_AIRFLOW_PYTHON" >&2
  return 1
}

install() {
  "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('apache-airflow') != '$VERSION')" 2>/dev/null && return
  say "installing apache-airflow $VERSION from PyPI into $VENV (first time only, about a minute)"
  "$(python_for_venv)" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q "apache-airflow==$VERSION" -c "$HERE/constraints.txt" psycopg2-binary asyncpg >"$DIR/install.log" 2>&1 \
    || { tail -20 "$DIR/install.log" >&2; exit 1; }
}

environment() {
  export AIRFLOW_HOME="$DIR/home"
  export AIRFLOW__CORE__DAGS_FOLDER="$HERE/dags"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor
  export AIRFLOW__CORE__PARALLELISM=4
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$DB"
  export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin,runner:user
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$DIR/home/passwords.json"
  export AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT="$PORT" AIRFLOW__API__WORKERS=1 AIRFLOW__API__BASE_URL="$URL"
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$URL/execution/"
  export AIRFLOW__API_AUTH__JWT_SECRET=rollgate-test-airflow-only AIRFLOW__API__SECRET_KEY=rollgate-test-airflow-only
  export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
  export AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL=1
  export ROLLGATE_AIRFLOW_OUT="$DIR/out"
}

# The metadata database in the local PostgreSQL, created when missing.
database() {
  "$VENV/bin/python" - "$DB" <<'PY'
import sys
import psycopg2
url = sys.argv[1].replace("postgresql+psycopg2://", "postgresql://")
base, name = url.rsplit("/", 1)
conn = psycopg2.connect(base + "/postgres")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
if cur.fetchone() is None:
    cur.execute('CREATE DATABASE "%s"' % name)
PY
}

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

healthy() {
  "$VENV/bin/python" - "$URL" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
try:
    h = json.load(urllib.request.urlopen(base + "/api/v2/monitor/health", timeout=3))
    ok = all((h.get(k) or {}).get("status") == "healthy" for k in ("metadatabase", "scheduler", "dag_processor"))
    req = urllib.request.Request(base + "/auth/token", data=b'{"username":"runner","password":"runner"}',
                                 headers={"Content-Type": "application/json"}, method="POST")
    token = json.load(urllib.request.urlopen(req, timeout=3))["access_token"]
    for dag in ("orders_etl", "orders_etl_rollback"):
        r = urllib.request.Request(base + "/api/v2/dags/" + dag, headers={"Authorization": "Bearer " + token})
        ok = ok and not json.load(urllib.request.urlopen(r, timeout=3)).get("is_stale")
    sys.exit(0 if ok else 1)
except Exception:
    sys.exit(1)
PY
}

start() {
  mkdir -p "$DIR/home" "$DIR/out" "$RUN"
  install
  environment
  printf '{"admin": "admin", "runner": "runner"}\n' >"$DIR/home/passwords.json"
  if alive api-server && healthy; then say "already running at $URL"; return; fi
  database
  say "migrating the metadata database"
  "$VENV/bin/airflow" db migrate >"$RUN/migrate.log" 2>&1 || { tail -20 "$RUN/migrate.log" >&2; exit 1; }
  local args
  for part in "${PARTS[@]}"; do
    alive "$part" && continue
    case $part in
      api-server) args=(api-server --host 127.0.0.1 --port "$PORT") ;;
      scheduler) args=(scheduler --skip-serve-logs) ;;
      *) args=("$part") ;;
    esac
    # Its own session, so stop can end the part and every process it forked.
    (cd "$DIR" && exec setsid "$VENV/bin/airflow" "${args[@]}" >>"$RUN/$part.log" 2>&1 </dev/null) &
    echo $! >"$RUN/$part.pid"
  done
  local deadline=$(( $(date +%s) + ${ROLLGATE_AIRFLOW_READY_TIMEOUT:-300} ))
  until healthy; do
    for part in "${PARTS[@]}"; do
      alive "$part" || { echo "airflow $part exited; its log ends:" >&2; tail -20 "$RUN/$part.log" >&2; exit 1; }
    done
    [ "$(date +%s)" -lt "$deadline" ] || { echo "Airflow is not healthy after the timeout; logs in $RUN" >&2; exit 1; }
    sleep 1
  done
  say "ready at $URL (runner/runner)"
}

stop() {
  local pid
  for part in scheduler dag-processor api-server; do
    [ -f "$RUN/$part.pid" ] || continue
    pid=$(cat "$RUN/$part.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 40); do
    local left=0
    for part in "${PARTS[@]}"; do alive "$part" && left=1; done
    [ $left = 0 ] && break
    sleep 0.5
  done
  for part in "${PARTS[@]}"; do
    [ -f "$RUN/$part.pid" ] && kill -KILL -- "-$(cat "$RUN/$part.pid")" 2>/dev/null || true
    rm -f "$RUN/$part.pid"
  done
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) environment; [ -x "$VENV/bin/python" ] && alive api-server && healthy && echo "$URL" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac

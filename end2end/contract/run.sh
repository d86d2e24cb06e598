#!/usr/bin/env bash
# The REST API against its own OpenAPI document under hostile input: schemathesis (PyPI, in a
# venv under target/) generates requests from /api/v1/openapi.json and checks every response
# (no 5xx, status and body as documented). Needs target/debug/rollgate (make build).
# Usage: end2end/contract/run.sh [max examples per operation, default 40]
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES="${1:-40}"
VERSION=4.32.5
VENV=target/venvs/schemathesis
BIN=./target/debug/rollgate

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "==> Installing schemathesis $VERSION into $VENV (first time only)"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "schemathesis==$VERSION" || {
    echo "cannot install schemathesis from PyPI" >&2; exit 3; }
fi

work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export DATABASE_URL="sqlite://$work/contract.db" ROLLGATE_SECRET_KEY_FILE="$work/secret.key" RUST_LOG=warn
"$BIN" migrate >/dev/null
"$BIN" user add --service --username ci-bot --name "Contract test" --role requester >/dev/null
token="$("$BIN" token create --owner ci-bot --name contract \
  --scope changes:read --scope changes:write --scope catalog:read --scope catalog:write)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ROLLGATE_PORT="$port" ROLLGATE_WORKER=false "$BIN" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "==> schemathesis: every operation of /api/v1, $EXAMPLES examples each"
"$VENV/bin/schemathesis" --config-file end2end/contract/schemathesis.toml \
  run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --checks all --max-examples "$EXAMPLES" --seed 1 --no-color \
  --report junit --report-dir "$work/report" | tee "$work/out.txt"
status=${PIPESTATUS[0]}
if grep -q "panicked\|internal error" "$work/server.log"; then
  echo "the server logged an internal error during the run:" >&2
  grep -m5 "panicked\|internal error" "$work/server.log" >&2
  status=1
fi
exit "$status"

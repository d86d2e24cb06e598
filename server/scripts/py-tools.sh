#!/usr/bin/env bash
# Installs the Python tools the tests run against into target/py-tools (a venv): aiosmtpd, a
# real SMTP server for the notification tests. Idempotent; prints the interpreter's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/target/py-tools"
PY="$VENV/bin/python3"
if ! "$PY" -c "import aiosmtpd" 2>/dev/null; then
  echo "==> Installing aiosmtpd (a real SMTP server for the tests) into target/py-tools" >&2
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "aiosmtpd==1.4.6" >&2
fi
echo "$PY"

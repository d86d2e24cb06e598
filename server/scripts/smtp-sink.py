#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for Rollgate's notification tests.

Listens on 127.0.0.1:PORT, appends each message it accepts to OUT as one JSON line
({"from", "to", "data"}), prints "ready" once it listens, and runs until killed.

  --fail-first N   answer the first N recipients with 451 (try again later)
  --user U --password P   require a login (over the plain connection) and accept only U/P
"""
import argparse
import asyncio
import json
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out, fail_first):
        self.out = out
        self.fail_first = fail_first

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 Try again later (test server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)
    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    options = {}
    if a.password is not None:
        options = dict(auth_require_tls=False, auth_required=True,
                       authenticator=authenticator(a.user or "", a.password))
    controller = Controller(Sink(a.out, a.fail_first), hostname="127.0.0.1", port=a.port, **options)
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()

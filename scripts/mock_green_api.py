#!/usr/bin/env python3
"""A tiny local stand-in for GREEN-API, for smoke, soak and load tests (stdlib only).

Answers, for any instance id and token (or only the configured ones, see --id-instance/--token):
  POST /waInstance{id}/sendContact/{token}      200 {"idMessage": "MOCK..."} (or the injected fault)
  GET  /waInstance{id}/getStateInstance/{token} 200 {"stateInstance": <--state>}
  GET  /waInstance{id}/getSettings/{token}      200 settings with "typeInstance": <--type-instance>
Control endpoints (never part of GREEN-API):
  GET  /_mock/stats    calls by method (counted on receipt, before any delay), answers by
                       status, the last sendContact body and the last idMessage given
  POST /_mock/reset    zero the counters
  POST /_mock/config   change faults at run time, JSON with any of
                       {"delay_ms": int, "status": int, "fail_every": int, "retry_after": int}

Faults for sendContact: --delay-ms N (sleep before answering), --status CODE (answer every
call with CODE instead of 200), --fail-every N (only every Nth call gets --status, default 500),
--retry-after S (Retry-After header on 429).

It listens on 127.0.0.1 only. With --port 0 (the default) it picks a free port; the port is
printed on stdout ("mock-green-api listening on http://127.0.0.1:PORT") and written to
--port-file if given, so a caller can wait for that file.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH_RE = re.compile(r"^/waInstance(?P<id>[^/]+)/(?P<method>[A-Za-z]+)/(?P<token>[^/?]+)/?(?:\?.*)?$")


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.config = {
            "delay_ms": args.delay_ms,
            "status": args.status,
            "fail_every": args.fail_every,
            "retry_after": args.retry_after,
        }
        self.reset()

    def reset(self):
        self.calls = {}
        self.answered = {}
        self.last_send_body = None
        self.last_id_message = None
        self.send_seq = 0

    def snapshot(self):
        return {
            "sendContact": self.calls.get("sendContact", 0),
            "calls": dict(self.calls),
            "answered": {str(k): v for k, v in self.answered.items()},
            "last_send_body": self.last_send_body,
            "last_id_message": self.last_id_message,
            "config": dict(self.config),
        }


class Handler(BaseHTTPRequestHandler):
    server_version = "mock-green-api/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # noqa: N802 (stdlib name)
        if self.server.state.args.verbose:
            sys.stderr.write("mock-green-api: %s\n" % (fmt % args))

    def _send(self, status, payload, headers=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _answer(self, status, payload, headers=None):
        """Sends a GREEN-API answer and counts it by status."""
        st = self.server.state
        with st.lock:
            st.answered[status] = st.answered.get(status, 0) + 1
        self._send(status, payload, headers)

    def _route(self):
        """Counts the call (on receipt) and returns the GREEN-API method, or None."""
        m = PATH_RE.match(self.path)
        if not m:
            return None, None
        st = self.server.state
        with st.lock:
            st.calls[m["method"]] = st.calls.get(m["method"], 0) + 1
        return m["method"], self._authorized(m)

    def do_GET(self):  # noqa: N802
        st = self.server.state
        if self.path == "/_mock/stats":
            with st.lock:
                return self._send(200, st.snapshot())
        method, authorized = self._route()
        if method is None:
            return self._send(404, {"message": "not found"})
        if not authorized:
            return self._answer(401, {"message": "Unauthorized"})
        if method == "getStateInstance":
            return self._answer(200, {"stateInstance": st.args.state})
        if method == "getSettings":
            return self._answer(200, {
                "wid": "79990000000@c.us",
                "typeInstance": st.args.type_instance,
                "countryInstance": "",
                "typeAccount": "",
                "webhookUrl": "",
                "webhookUrlToken": "",
                "delaySendMessagesMilliseconds": 1000,
                "markIncomingMessagesReaded": "no",
                "outgoingWebhook": "no",
                "incomingWebhook": "no",
                "stateWebhook": "no",
            })
        return self._answer(404, {"message": "unknown method"})

    def do_POST(self):  # noqa: N802
        st = self.server.state
        raw = self._body()
        if self.path == "/_mock/reset":
            with st.lock:
                st.reset()
            return self._send(200, {"ok": True})
        if self.path == "/_mock/config":
            try:
                change = json.loads(raw or b"{}")
                with st.lock:
                    for k in st.config:
                        if k in change:
                            st.config[k] = None if change[k] is None else int(change[k])
                    cfg = dict(st.config)
            except (ValueError, TypeError) as e:
                return self._send(400, {"message": str(e)})
            return self._send(200, cfg)
        method, authorized = self._route()
        if method != "sendContact":
            return self._send(404, {"message": "not found"})
        if not authorized:
            return self._answer(401, {"message": "Unauthorized"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with st.lock:
            st.send_seq += 1
            seq = st.send_seq
            st.last_send_body = body
            cfg = dict(st.config)
        if cfg["delay_ms"]:
            time.sleep(cfg["delay_ms"] / 1000.0)
        fault = cfg["status"]
        if fault is None and cfg["fail_every"]:
            fault = 500
        if fault is not None and fault != 200 and (not cfg["fail_every"] or seq % cfg["fail_every"] == 0):
            headers = {"Retry-After": str(cfg["retry_after"])} if fault == 429 else None
            return self._answer(fault, {"message": "mock-green-api: injected status %d" % fault}, headers)
        if not isinstance(body, dict) or "chatId" not in body or "contact" not in body:
            return self._answer(400, {"message": "Validation failed: chatId and contact are required"})
        id_message = "MOCK%012X" % (0xC0FFEE000000 + seq)
        with st.lock:
            st.last_id_message = id_message
        return self._answer(200, {"idMessage": id_message})

    def _authorized(self, m):
        a = self.server.state.args
        return (a.id_instance is None or m["id"] == a.id_instance) and (a.token is None or m["token"] == a.token)


def main():
    p = argparse.ArgumentParser(description="Local mock of GREEN-API (sendContact, getStateInstance, getSettings).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (default)")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--id-instance", help="answer 401 unless the path has this idInstance")
    p.add_argument("--token", help="answer 401 unless the path has this apiTokenInstance")
    p.add_argument("--state", default="authorized", help="getStateInstance answer (default authorized)")
    p.add_argument("--type-instance", default="whatsapp", help="getSettings typeInstance (default whatsapp)")
    p.add_argument("--delay-ms", type=int, default=0, help="delay before each sendContact answer")
    p.add_argument("--status", type=int, default=None, help="answer sendContact with this status instead of 200")
    p.add_argument("--fail-every", type=int, default=0, help="only every Nth sendContact gets --status (default 500)")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with 429")
    p.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = p.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("mock-green-api listening on http://%s:%d" % (args.host, port), flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()

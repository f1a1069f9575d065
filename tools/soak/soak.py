#!/usr/bin/env python3
"""Soak test for slack-sendcontact (Python 3 standard library only).

Starts the release binary against the tools' mock GREEN-API
(tools/mock_green_api.rs), which injects faults at random from the mix below,
and a local response_url receiver that sometimes answers 500/429,
drives the service with correctly signed slash commands at a steady rate for a
bounded time, waits for every deferred delivery, and reports what happened to
each command. All traffic stays on 127.0.0.1.

Every command carries a unique id (`S000123`) as its contact's first name and
in its response_url path, so each upstream call and each delayed answer is
attributed to the command that caused it.

Exit status: 0 when nothing was lost, duplicated or answered wrongly and
memory stayed flat; 1 otherwise; 3 when something was off but the harness
itself stalled during the run (inconclusive: run again on a quieter
machine); 2 when the run itself could not be set up.

Usage: tools/soak/run.sh [--duration 120] [--rate 30] [--seed 1] ...
(see --help). run.sh builds the binaries first; this script takes --binary and
--mock-green-api.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ID_INSTANCE = "4100000000"
ID_RE = re.compile(r"S\d{6}")

# What the mock GREEN-API does with one sendContact call (the faults are
# written in tools/mock_green_api.rs; it gets this mix as --mix), and how many
# calls in a hundred get it. `accepted` says whether GREEN-API would have queued the
# message: True (yes), None (maybe: the outcome is unknown), False (refused).
# A second call for a command after a True or None call is a duplicate send.
FAULTS = {
    #  name           weight  accepted
    "ok_fast":        (40,    True),   # 200 + idMessage at once: the inline path
    "ok_slow":        (10,    True),   # 200 + idMessage after 0.5-1.5 s: the deferred path
    "rejected_slow":  (3,     False),  # 400 after 0.5 s: a deferred failure
    "rejected":       (4,     False),  # 400 with a reason
    "unauthorized":   (3,     False),  # 401
    "rate_limited_ra": (6,    False),  # 429 with Retry-After: 1
    "rate_limited":   (5,     False),  # 429 without Retry-After
    "rate_limited_absurd": (1, False), # 429 with Retry-After: 2^64-1 s (once panicked the service)
    "quota":          (3,     False),  # 466
    "server_error":   (4,     None),   # 500
    "bad_gateway":    (4,     None),   # 502
    "timeout":        (3,     None),   # no answer before GREEN_API_TIMEOUT_MS
    "closed":         (4,     None),   # 200 headers and half a body, then the connection closes
    "huge":           (3,     None),   # 200 with an 8 MiB body
    "not_json":       (3,     None),   # 200 with an HTML page
    "no_id":          (2,     None),   # 200 with JSON but no idMessage
}
SUCCESS_FAULTS = {"ok_fast", "ok_slow"}


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Store:
    """Everything the mocks and the driver saw, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.upstream = {}        # cmd id -> [[t start, fault, idMessage, t answered]]
        self.upstream_unattributed = 0
        self.posts = {}           # cmd id -> [(t, status we answered, payload)]
        self.post_plan = {}       # cmd id -> [status to answer for post 1, 2, ...]
        self.answers = {}         # cmd id -> dict(kind=..., status=..., text=..., latency=...)


class Quiet:
    def log_message(self, *args):  # noqa: D401 - silence the default access log
        pass


def start_green_api(args, seed, token, workdir):
    """Starts the mock GREEN-API with the fault mix; returns the process, its
    port and the file where it logs each sendContact call."""
    port_file = os.path.join(workdir, "green-api.port")
    calls_log = os.path.join(workdir, "green-api.calls")
    mix = ",".join(f"{name}={weight}" for name, (weight, _) in FAULTS.items())
    mock = subprocess.Popen(
        [os.path.abspath(args.mock_green_api), "--port-file", port_file, "--id-instance", ID_INSTANCE,
         "--token", token, "--mix", mix, "--seed", str(seed), "--timeout-ms", str(args.timeout_ms),
         "--calls-log", calls_log],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "green-api.log"), "wb"))
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file):
        if mock.poll() is not None or time.monotonic() > deadline:
            mock.kill()
            return None, None, None
        time.sleep(0.05)
    with open(port_file) as f:
        return mock, int(f.read()), calls_log


def read_calls(store, calls_log):
    """Files the mock's sendContact calls under the command that made each:
    [t received, fault, idMessage, t answered or None]."""
    by_id = {}
    with open(calls_log) as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short when the mock was stopped
            if event.get("event") == "call":
                call = [event["t"], event["fault"], event["id_message"], None]
                by_id[event["id_message"]] = call
                cmd = event.get("first_name")
                if cmd and ID_RE.fullmatch(cmd):
                    store.upstream.setdefault(cmd, []).append(call)
                else:
                    store.upstream_unattributed += 1
            elif event.get("event") == "answered" and event.get("id_message") in by_id:
                by_id[event["id_message"]][3] = event["t"]


def make_response_url(store, rng, max_failures):
    failure_counts = list(range(max_failures + 1))
    failure_weights = [70] + [30 / max_failures] * max_failures if max_failures else [1]

    plan_lock = threading.Lock()

    class ResponseUrl(Quiet, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            m = ID_RE.search(self.path)
            cmd = m.group(0) if m else "?"
            with plan_lock:
                if cmd not in store.post_plan:
                    # At most two failures per command by default, so a
                    # service that retries as it should always gets through
                    # within Slack's five posts: a loss is then its fault.
                    failures = rng.choices(failure_counts, failure_weights)[0]
                    store.post_plan[cmd] = [rng.choice([500, 503, 429, 429]) for _ in range(failures)]
                plan = store.post_plan[cmd]
                status = plan.pop(0) if plan else 200
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {"unparsable": raw[:200].decode("utf-8", "replace")}
            post = [time.monotonic(), status, payload, True]
            with store.lock:
                store.posts.setdefault(cmd, []).append(post)
            headers = [("Retry-After", "1")] if status == 429 and rng.random() < 0.5 else []
            body = b"ok" if status == 200 else b"rate_limited" if status == 429 else b"internal_error"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                # The service hung up before our answer (its POST timed
                # out): for it this post failed, and posting again is right.
                post[3] = False
                self.close_connection = True

    return ResponseUrl


class Server(ThreadingHTTPServer):
    # A class attribute: listen() runs in the constructor. The default of 5
    # overflowed under bursts (the kernel logged SYN flooding, and the
    # service's connects to the mocks timed out).
    request_queue_size = 1024
    daemon_threads = True


def serve(handler):
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sign(secret, ts, body):
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()


def cpu_pressure():
    """The share of the last 10 s in which some runnable task waited for a
    CPU (Linux PSI), or None where the kernel does not report it."""
    try:
        with open("/proc/pressure/cpu") as f:
            return float(f.readline().split()[1].split("=")[1])
    except (OSError, IndexError, ValueError):
        return None


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(value.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError):
        pass
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="the slack-sendcontact release binary")
    p.add_argument("--mock-green-api", required=True, help="the built tools/mock_green_api.rs")
    p.add_argument("--duration", type=float, default=120, help="seconds of driving (default 120)")
    p.add_argument("--rate", type=float, default=30, help="commands per second (default 30)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the fault mix (default 1)")
    p.add_argument("--ack-budget-ms", type=int, default=300, help="SLACK_ACK_BUDGET_MS (default 300)")
    p.add_argument("--timeout-ms", type=int, default=2000, help="GREEN_API_TIMEOUT_MS (default 2000)")
    p.add_argument("--drain", type=float, default=60, help="max seconds to wait for deferred answers (default 60)")
    p.add_argument("--max-rss-growth-mib", type=float, default=32,
                   help="fail if the average RSS in the last fifth of the run exceeds that of the second fifth (the "
                        "first is warm-up) by more than this (default 32)")
    p.add_argument("--max-post-failures", type=int, default=2,
                   help="most 500/429 answers the response_url receiver gives one command before a 200 (default 2; "
                        "5 or more makes some deliveries fail for good, which the report must then count as lost)")
    p.add_argument("--sigterm-after-driving", action="store_true",
                   help="send SIGTERM as soon as the last command is answered, while deferred deliveries are still "
                        "running: graceful shutdown must still deliver every one of them before the process exits")
    p.add_argument("--report", help="also write the figures as JSON to this file")
    p.add_argument("--keep-log", help="copy the service's log to this file")
    args = p.parse_args()
    if args.duration <= 0 or args.duration > 3600 or args.rate <= 0 or args.rate > 200:
        p.error("--duration must be in (0, 3600] and --rate in (0, 200]")

    rng = random.Random(args.seed)
    store = Store()
    token = secrets.token_hex(25)
    signing_secret = secrets.token_hex(16)

    workdir = tempfile.mkdtemp(prefix="soak-")
    green_api, gport, calls_log = start_green_api(args, int(rng.random() * 2**53), token, workdir)
    if green_api is None:
        log(f"the mock GREEN-API did not start; its log is in {workdir}")
        return 2
    receiver = serve(make_response_url(store, random.Random(rng.random()), args.max_post_failures))
    rport = receiver.server_address[1]
    port = free_port()

    log_path = os.path.join(workdir, "service.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GREEN_API_", "RUST_LOG", "LOG_"))}
    env.update({
        "SLACK_SIGNING_SECRET": signing_secret,
        "GREEN_API_URL": f"http://127.0.0.1:{gport}",
        "GREEN_API_ID_INSTANCE": ID_INSTANCE,
        "GREEN_API_TOKEN_INSTANCE": token,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SLACK_RESPONSE_URL_HOSTS": "127.0.0.1",
        "SLACK_ACK_BUDGET_MS": str(args.ack_budget_ms),
        "GREEN_API_TIMEOUT_MS": str(args.timeout_ms),
        "LOG_FORMAT": "json",
        "RUST_LOG": "info",
    })
    log(f"service on 127.0.0.1:{port}, mock GREEN-API on :{gport}, response_url receiver on :{rport}; log {log_path}")
    service_log = open(log_path, "wb")
    # cwd is an empty directory, so no developer's .env is read.
    service = subprocess.Popen([os.path.abspath(args.binary)], cwd=workdir, env=env,
                               stdout=service_log, stderr=subprocess.STDOUT)

    def wait_ready():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if service.poll() is not None:
                return False
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    if not wait_ready():
        service.kill()
        green_api.kill()
        log("the service did not become ready; its log:")
        sys.stderr.write(open(log_path, errors="replace").read()[-4000:])
        return 2

    # What kind of command each one is: most are valid sends; a few test
    # that help, bad arguments and bad signatures never reach GREEN-API.
    kinds = rng.choices(["send", "help", "invalid", "bad_signature"], [90, 3, 4, 3],
                        k=int(args.duration * args.rate))
    total = len(kinds)

    def form(cmd, text):
        return urllib.parse.urlencode([
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", "T0001"), ("team_domain", "soak"),
            ("channel_id", "C2147483705"), ("channel_name", "soak"), ("user_id", "U2147483697"),
            ("user_name", "soak"), ("command", "/sendcontact"), ("text", text),
            ("response_url", f"http://127.0.0.1:{rport}/commands/T0001/{cmd}/{secrets.token_hex(8)}"),
            ("trigger_id", "13345224609.738474920.8088930838d88f008e0"), ("api_app_id", "A123456"),
        ]).encode()

    def text_for(cmd, kind):
        if kind == "help":
            return "help"
        if kind == "invalid":
            return f"10000000 12345 {cmd}"  # a phone of 5 digits
        return f"10000000 +7 987 654-{rng.randint(10, 99)}-{rng.randint(10, 99)} {cmd} Soakov «Soak & Sons»"

    texts = [text_for(f"S{i:06d}", kind) for i, kind in enumerate(kinds)]

    def send(i):
        cmd = f"S{i:06d}"
        kind = kinds[i]
        body = form(cmd, texts[i])
        ts = str(int(time.time()))
        sig = sign(signing_secret, ts, body)
        if kind == "bad_signature":
            sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        started = time.monotonic()
        answer = {"kind": kind, "sent_at": started}
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/slack/commands", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
            r = c.getresponse()
            raw = r.read()
            c.close()
            answer["status"] = r.status
            try:
                answer["json"] = json.loads(raw)
            except ValueError:
                answer["body"] = raw[:200].decode("utf-8", "replace")
        except OSError as e:
            answer["error"] = f"{type(e).__name__}: {e}"
        answer["latency"] = time.monotonic() - started
        with store.lock:
            store.answers[cmd] = answer

    def pending():
        with store.lock:
            return [cmd for cmd, a in store.answers.items()
                    if is_sending(a) and not any(p[1] == 200 for p in store.posts.get(cmd, []))]

    samples = []
    stop_sampling = threading.Event()
    t0 = time.monotonic()

    def sampler():
        while not stop_sampling.is_set():
            s = proc_status(service.pid)
            if s:
                s["t"] = round(time.monotonic() - t0, 1)
                s["cpu_pressure"] = cpu_pressure()
                samples.append(s)
            stop_sampling.wait(1.0)

    # The harness can stall too (a starved Python process, a loaded
    # machine): a thread that should wake every 100 ms notes when it did not,
    # so a report can tell the service's faults from the harness's.
    stalls = []

    def heartbeat():
        while not stop_sampling.is_set():
            before = time.monotonic()
            time.sleep(0.1)
            late = time.monotonic() - before - 0.1
            if late > 0.5:
                stalls.append((round(before - t0, 1), round(late, 2)))

    threading.Thread(target=sampler, daemon=True).start()
    threading.Thread(target=heartbeat, daemon=True).start()

    log(f"driving {total} commands at {args.rate}/s for {args.duration:.0f} s")
    lag_max = 0.0
    with ThreadPoolExecutor(max_workers=128) as pool:
        start = time.monotonic()
        for i in range(total):
            due = start + i / args.rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            else:
                lag_max = max(lag_max, now - due)
            pool.submit(send, i)
            if i and i % int(args.rate * 10) == 0:
                s = samples[-1] if samples else {}
                log(f"{i}/{total} sent; service RSS {s.get('VmRSS', 0) / 1024:.1f} MiB, {s.get('fds', '?')} fds")
    driving_ended = time.monotonic()
    exit_code = None
    outstanding_at_sigterm = None
    if args.sigterm_after_driving:
        outstanding_at_sigterm = len(pending())
        log(f"all sent in {driving_ended - start:.1f} s; {outstanding_at_sigterm} deferred answers outstanding; SIGTERM")
        final = proc_status(service.pid)
        service.send_signal(signal.SIGTERM)
        try:
            exit_code = service.wait(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
            exit_code = "killed 60 s after SIGTERM"
        log(f"the service exited {exit_code} {time.monotonic() - driving_ended:.1f} s after SIGTERM")
    else:
        log(f"all sent in {driving_ended - start:.1f} s; waiting for deferred answers (up to {args.drain:.0f} s)")

    if exit_code is None:
        deadline = time.monotonic() + args.drain
        while pending() and time.monotonic() < deadline:
            time.sleep(0.5)
    # Anything that would arrive twice arrives within a few seconds more.
    time.sleep(3)
    drain_secs = time.monotonic() - driving_ended
    stop_sampling.set()
    if exit_code is None:
        final = proc_status(service.pid)
        service.send_signal(signal.SIGTERM)
        try:
            exit_code = service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            exit_code = "killed 30 s after SIGTERM"
    service_log.close()
    green_api.terminate()
    green_api.wait()
    receiver.shutdown()
    read_calls(store, calls_log)

    report = analyse(args, store, samples, final, exit_code, log_path, token, signing_secret,
                     driving_ended - start, drain_secs, lag_max, stalls)
    report["deferred_outstanding_at_sigterm"] = outstanding_at_sigterm
    if args.keep_log:
        with open(log_path, "rb") as src, open(args.keep_log, "wb") as dst:
            dst.write(src.read())
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
    print_report(report)
    return 0 if report["ok"] else 3 if report["inconclusive"] else 1


def is_sending(answer):
    j = answer.get("json") or {}
    return answer.get("status") == 200 and j.get("response_type") == "ephemeral" and \
        "Sending the contact card" in j.get("text", "")


def analyse(args, store, samples, final, exit_code, log_path, token, signing_secret, driving_secs, drain_secs,
            lag_max, stalls):
    problems = []
    r = {"config": {"duration_s": args.duration, "rate_per_s": args.rate, "seed": args.seed,
                    "max_post_failures": args.max_post_failures, "sigterm_after_driving": args.sigterm_after_driving,
                    "ack_budget_ms": args.ack_budget_ms, "green_api_timeout_ms": args.timeout_ms,
                    "fault_weights": {k: v[0] for k, v in FAULTS.items()}},
         "driving_s": round(driving_secs, 1), "drain_s": round(drain_secs, 1),
         "driver_max_lag_ms": round(lag_max * 1000, 1),
         "harness_stalls_over_0_5s": stalls[:50],
         "cpu_pressure_max_pct": max((s["cpu_pressure"] for s in samples if s.get("cpu_pressure") is not None),
                                     default=None)}
    answers = store.answers
    r["requests_sent"] = len(answers)
    by_kind = {}
    for a in answers.values():
        by_kind[a["kind"]] = by_kind.get(a["kind"], 0) + 1
    r["requests_by_kind"] = by_kind

    inline = {"in_channel": 0, "ephemeral_final": 0, "sending_ack": 0, "http_401": 0, "other_http": 0,
              "no_answer": 0}
    deferred = {"in_channel": 0, "ephemeral": 0}
    upstream_calls = sum(len(v) for v in store.upstream.values())
    fault_counts = {}
    for calls in store.upstream.values():
        for _, fault, _, _ in calls:
            fault_counts[fault] = fault_counts.get(fault, 0) + 1
    lost, duplicates, refused_resends, wrong, extra_answers, late_acks = [], [], [], [], [], []
    stray_upstream = []
    ok_too_late = 0
    reposts_after_unanswered = 0
    timeout_s = args.timeout_ms / 1000
    posts_total = sum(len(v) for v in store.posts.values())
    post_retries = sum(max(0, len(v) - 1) for v in store.posts.values())
    latencies = sorted(a["latency"] for a in answers.values())

    for cmd, a in sorted(answers.items()):
        calls = store.upstream.get(cmd, [])
        posts = store.posts.get(cmd, [])
        delivered = [p for p in posts if p[1] == 200]
        # An accepted post whose answer never reached the service (it had
        # hung up) is followed by a legitimate re-post: Slack would show
        # that answer twice, which at-least-once delivery allows.
        if len(delivered) > 1 and all(not p[3] for p in delivered[:-1]):
            reposts_after_unanswered += len(delivered) - 1
            delivered = delivered[-1:]
        if a["latency"] > 3.0:
            late_acks.append(cmd)
        if "error" in a:
            inline["no_answer"] += 1
        elif a.get("status") == 401:
            inline["http_401"] += 1
        elif a.get("status") != 200:
            inline["other_http"] += 1
        elif is_sending(a):
            inline["sending_ack"] += 1
        elif (a.get("json") or {}).get("response_type") == "in_channel":
            inline["in_channel"] += 1
        else:
            inline["ephemeral_final"] += 1

        if a["kind"] != "send":
            expected_status = 401 if a["kind"] == "bad_signature" else 200
            if a.get("status") != expected_status or is_sending(a):
                wrong.append((cmd, f"{a['kind']} answered {a.get('status')} {a.get('error', '')}"))
            if calls:
                stray_upstream.append(cmd)
            if posts:
                extra_answers.append(cmd)
            continue

        # Upstream: a call after one GREEN-API accepted or may have accepted
        # is a duplicate; a call after a refusal other than 429 is a retry
        # the contract forbids.
        for (_, prev, _, _), _ in zip(calls, calls[1:]):
            accepted = FAULTS[prev][1]
            if accepted is None or accepted:
                duplicates.append(cmd)
                break
            if not prev.startswith("rate_limited"):
                refused_resends.append(cmd)
                break

        # The final answer: inline, or the response_url post Slack accepted.
        if "error" in a or a.get("status") != 200:
            lost.append((cmd, "no inline answer: " + a.get("error", f"HTTP {a.get('status')}")))
            continue
        if is_sending(a):
            if not delivered:
                lost.append((cmd, f"'Sending…' ack, then {len(posts)} response_url posts, none accepted"))
                continue
            if len(delivered) > 1:
                extra_answers.append(cmd)
            answer = delivered[0][2]
            deferred["in_channel" if answer.get("response_type") == "in_channel" else "ephemeral"] += 1
        else:
            if posts:
                extra_answers.append(cmd)
            answer = a["json"]
        succeeded = answer.get("response_type") == "in_channel"
        last = calls[-1] if calls else None
        should_succeed = bool(last) and last[1] in SUCCESS_FAULTS
        # A success that left the mock later than GREEN_API_TIMEOUT_MS after
        # the command was sent may have come after the service gave up (its
        # clock starts on receipt, and connecting to the mock takes time
        # too): it may rightly report the outcome as unknown.
        if should_succeed and (last[3] or 1e18) - a["sent_at"] > timeout_s - 0.1:
            ok_too_late += 1
            should_succeed = succeeded
        if succeeded != should_succeed:
            wrong.append((cmd, f"answered {'success' if succeeded else 'failure'} after "
                               f"{[(c[1], round(c[0] - a['sent_at'], 2), round((c[3] or 0) - a['sent_at'], 2)) for c in calls]}: "
                               f"{answer.get('text', '')[:160]}"))
        elif succeeded and last[2] not in answer.get("text", ""):
            wrong.append((cmd, f"success without the idMessage {last[2]}"))

    r["upstream"] = {"calls": upstream_calls, "commands_reaching_upstream": len(store.upstream),
                     "sends_without_upstream_call": sum(
                         1 for cmd, a in answers.items() if a["kind"] == "send" and cmd not in store.upstream),
                     "unattributed_calls": store.upstream_unattributed,
                     "successes_after_the_timeout": ok_too_late,
                     "retries_after_429": sum(
                         1 for calls in store.upstream.values()
                         for (_, prev, _, _), _ in zip(calls, calls[1:]) if prev.startswith("rate_limited")),
                     "faults_served": dict(sorted(fault_counts.items(), key=lambda kv: -kv[1]))}
    r["inline_answers"] = inline
    r["response_url"] = {"final_answers": deferred, "posts": posts_total, "retried_posts": post_retries,
                         "accepted_twice_after_the_service_hung_up": reposts_after_unanswered,
                         "failures_injected": sum(1 for v in store.posts.values() for p in v if p[1] != 200)}
    r["final_answers"] = inline["in_channel"] + inline["ephemeral_final"] + inline["http_401"] + \
        deferred["in_channel"] + deferred["ephemeral"]
    r["ack_latency_ms"] = {
        "p50": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "max": round(latencies[-1] * 1000, 1) if latencies else None,
    }
    r["lost"] = len(lost)
    r["duplicated_upstream"] = len(duplicates)
    r["resent_after_refusal"] = len(refused_resends)
    r["duplicate_or_extra_answers"] = len(extra_answers)
    r["wrong_answers"] = len(wrong)
    r["acks_over_3s"] = len(late_acks)
    r["upstream_calls_for_non_sends"] = len(stray_upstream)
    r["examples"] = {"lost": lost[:5], "duplicated": duplicates[:5], "resent": refused_resends[:5],
                     "extra_answers": extra_answers[:5], "wrong": wrong[:5], "late_acks": late_acks[:5]}

    # Memory: RSS over time, and whether it stayed flat once warmed up.
    rss = [(s["t"], s["VmRSS"]) for s in samples if "VmRSS" in s]
    series = rss[:: max(1, len(rss) // 24)]
    r["memory"] = {
        "peak_vmhwm_mib": round(final.get("VmHWM", max((s.get("VmHWM", 0) for s in samples), default=0)) / 1024, 1),
        "rss_mib_over_time": [(t, round(kb / 1024, 1)) for t, kb in series],
        "fds_over_time": [(s["t"], s.get("fds")) for s in samples[:: max(1, len(samples) // 24)]],
        "fds_max": max((s.get("fds", 0) for s in samples), default=0),
        "threads_max": max((s.get("Threads", 0) for s in samples), default=0),
        "final_rss_mib": round(final.get("VmRSS", 0) / 1024, 1),
        "final_fds": final.get("fds"),
    }
    driving = [kb for t, kb in rss if t <= driving_secs]
    if len(driving) >= 10:
        fifth = max(1, len(driving) // 5)
        warm = driving[fifth: 2 * fifth]  # skip the first fifth: warm-up
        tail = driving[-fifth:]
        early, late = sum(warm) / len(warm) / 1024, sum(tail) / len(tail) / 1024
        r["memory"]["rss_mib_second_fifth_avg"] = round(early, 1)
        r["memory"]["rss_mib_last_fifth_avg"] = round(late, 1)
        r["memory"]["flat"] = late - early <= args.max_rss_growth_mib
        if not r["memory"]["flat"]:
            problems.append(f"RSS grew by {late - early:.1f} MiB during the run")

    # The service's own view: no panic, nothing it gave up on, no secret.
    text = open(log_path, errors="replace").read()
    lines = text.splitlines()
    r["service_log"] = {
        "lines": len(lines),
        "errors": sum(1 for l in lines if '"level":"ERROR"' in l),
        "warnings": sum(1 for l in lines if '"level":"WARN"' in l),
        "panics": text.count("panicked"),
        "secret_in_log": token in text or signing_secret in text,
        "exit_code_after_sigterm": exit_code,
    }

    for name, value in [("lost", r["lost"]), ("duplicated upstream", r["duplicated_upstream"]),
                        ("re-sent after a refusal other than 429", r["resent_after_refusal"]),
                        ("duplicate or extra answers", r["duplicate_or_extra_answers"]),
                        ("wrong answers", r["wrong_answers"]), ("acks over 3 s", r["acks_over_3s"]),
                        ("upstream calls for help/invalid/unsigned", r["upstream_calls_for_non_sends"]),
                        ("unattributed upstream calls", store.upstream_unattributed),
                        ("panics", r["service_log"]["panics"])]:
        if value:
            problems.append(f"{name}: {value}")
    if r["service_log"]["secret_in_log"]:
        problems.append("a secret appears in the service log")
    if exit_code != 0:
        problems.append(f"exit code after SIGTERM: {exit_code}")
    r["problems"] = problems
    r["ok"] = not problems
    # Problems during a run in which the harness itself stalled say nothing
    # sure about the service: report them, but as inconclusive.
    r["inconclusive"] = bool(problems) and (bool(stalls) or lag_max > 1.0)
    return r


def print_report(r):
    c = r["config"]
    m = r["memory"]
    out = [
        "",
        "== soak report",
        f"config          {c['duration_s']:.0f} s at {c['rate_per_s']}/s, seed {c['seed']}, "
        f"ack budget {c['ack_budget_ms']} ms, GREEN-API timeout {c['green_api_timeout_ms']} ms, response_url "
        f"failures per command <= {c['max_post_failures']}, SIGTERM right after driving: {c['sigterm_after_driving']}",
        f"driving         {r['driving_s']} s (max driver lag {r['driver_max_lag_ms']} ms), drain {r['drain_s']} s"
        + (f", SIGTERM with {r['deferred_outstanding_at_sigterm']} deferred answers outstanding"
           if r.get("deferred_outstanding_at_sigterm") is not None else ""),
        f"requests sent   {r['requests_sent']} {r['requests_by_kind']}",
        f"inline answers  {r['inline_answers']}",
        f"response_url    {r['response_url']}",
        f"final answers   {r['final_answers']}",
        f"ack latency ms  {r['ack_latency_ms']}",
        f"upstream        {r['upstream']}",
        f"lost            {r['lost']}",
        f"duplicated      {r['duplicated_upstream']} (429 retries, which are legitimate: "
        f"{r['upstream']['retries_after_429']})",
        f"re-sent after a non-429 refusal {r['resent_after_refusal']}; duplicate/extra answers "
        f"{r['duplicate_or_extra_answers']}; wrong answers {r['wrong_answers']}; acks over 3 s {r['acks_over_3s']}",
        f"memory          peak VmHWM {m['peak_vmhwm_mib']} MiB; RSS 2nd-fifth avg {m.get('rss_mib_second_fifth_avg')} "
        f"MiB, last-fifth avg {m.get('rss_mib_last_fifth_avg')} MiB, flat: {m.get('flat')}; "
        f"max fds {m['fds_max']}, max threads {m['threads_max']}; after drain RSS {m['final_rss_mib']} MiB, "
        f"fds {m['final_fds']}",
        f"RSS over time   {' '.join(f'{t:.0f}s:{v}' for t, v in m['rss_mib_over_time'])}",
        f"fds over time   {' '.join(f'{t:.0f}s:{v}' for t, v in m['fds_over_time'])}",
        f"service log     {r['service_log']}",
    ]
    if any(r["examples"].values()):
        out.append(f"examples        {r['examples']}")
    out.append(f"harness         heartbeat stalls over 0.5 s: {len(r['harness_stalls_over_0_5s'])} "
               f"{r['harness_stalls_over_0_5s'][:8]}; max CPU pressure (PSI some avg10) {r['cpu_pressure_max_pct']} %")
    if r["ok"]:
        verdict = "OK: nothing lost, nothing duplicated"
    elif r["inconclusive"]:
        verdict = ("INCONCLUSIVE: the harness itself stalled during the run (see 'harness'), so these may be its "
                   "faults: " + "; ".join(r["problems"]))
    else:
        verdict = "FAIL: " + "; ".join(r["problems"])
    out.append("RESULT          " + verdict)
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())

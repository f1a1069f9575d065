#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/: realistic Slack
slash-command bodies and texts, signed for the fuzz targets' fixed clock.
Re-run after changing it: python3 fuzz/seeds/make_seeds.py"""
import hashlib
import hmac
import os
import urllib.parse

SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"  # Slack's worked example
NOW = 1531420618
HERE = os.path.dirname(os.path.abspath(__file__))

TEXTS = [
    "",
    "help",
    "?",
    "10000000 79876543210 Иван",
    "10000000 +7 (987) 654-32-10 Иван Иванов",
    "-10000000000000 79876543210 Иван Иванов ООО Ромашка и партнёры",
    "<mailto:79876543210@c.us|79876543210@c.us> <tel:+79876543210|+7 987 654 32 10> “Anna Maria” O'Neil «Smith &amp; Sons»",
    "120363043968066561@g.us 4915112345678 Hans \"\" Acme",
    "11001234567-1581234048@g.us +44 20 7946 0958 'Jane Ann' Doe <http://acme.co.uk|Acme Ltd>",
    "123@lid 4915112345678 Hans Müller <http://acme.de|acme.de>",
    "+79876543210@C.US 7.987.654.32.10 „Hans Peter“ ‘O Brien’",
    "10000000 79876543210 &lt;!channel&gt; <@U123|ivan> <#C1|general> <!here>",
    "10000000 0791234567 Ivan",
    "10000000 79876543210 “Ivan",
    "ten 79876543210 Ivan",
    "10000000\u00a079876543210\u00a0Ivan\tPetrov\nAcme",
    "10000000 79876543210 Iv\u0000an",
    "10000000 123456789012345678 Ivan",
]


def form(text, **over):
    fields = [
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", "T0001"), ("team_domain", "example"),
        ("channel_id", "C2147483705"), ("channel_name", "test"), ("user_id", "U2147483697"),
        ("user_name", "Steve"), ("command", "/sendcontact"), ("text", text),
        ("response_url", "https://hooks.slack.com/commands/T0001/1234/5678abcd"),
        ("trigger_id", "13345224609.738474920.8088930838d88f008e0"), ("api_app_id", "A123456"),
    ]
    fields = [(k, over.pop(k, v)) for k, v in fields] + list(over.items())
    return urllib.parse.urlencode([(k, v) for k, v in fields if v is not None]).encode()


BODIES = [form(t) for t in TEXTS] + [
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
    b"ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO",
    form("10000000 79876543210 Ivan", response_url="http://127.0.0.1:9/x"),
    form("10000000 79876543210 Ivan", response_url="https://169.254.169.254/latest"),
    form("10000000 79876543210 Ivan", response_url="https://user:pw@hooks.slack.com/x"),
    form("10000000 79876543210 Ivan", response_url=None, command="sendcontact"),
    form("10000000 79876543210 Ivan") + b"&text=second",
    b"text=%ZZ%E2%80&team_id=%FF%FE&command=%2F%00",
    b"text=10000000+79876543210+%D0%98%D0%B2%D0%B0%D0%BD&" + b"&".join(b"f%d=%d" % (i, i) for i in range(200)),
    b"\xff\xfe=\xc3\x28&text=\xe2\x82",
]


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sign(ts, body):
    return b"v0=" + hmac.new(SECRET, b"v0:" + ts + b":" + body, hashlib.sha256).hexdigest().encode()


for i, text in enumerate(TEXTS):
    write("command_text", "text-%02d" % i, text.encode())
for i, body in enumerate(BODIES):
    write("slack_form", "body-%02d" % i, body)
    ts = str(NOW - i).encode()
    write("signed_request", "signed-%02d" % i, ts + b"\n" + sign(ts, body) + b"\n" + body)
body = BODIES[3]
ts = str(NOW).encode()
write("signed_request", "unsigned", body)
write("signed_request", "no-signature", ts + b"\n" + body)
write("signed_request", "wrong-signature", ts + b"\n" + b"v0=" + b"0" * 64 + b"\n" + body)
write("signed_request", "expired", b"1531420000\n" + sign(b"1531420000", body) + b"\n" + body)
write("signed_request", "plus-timestamp", b"+1531420618\n" + sign(b"+1531420618", body) + b"\n" + body)
write("signed_request", "v1", ts + b"\nv1=abc\n" + body)

"""The transport's rules: what an answer means, back-off, Retry-After, TLS, bisection."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.xapi import delivery
from lms.xapi.delivery import Answer, Item, LrsClient, Target, classify
from tests.xapi.lrs import KEY, SECRET


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (409, "conflict"),
        (400, "rejected"),
        (413, "rejected"),
        (401, "pause"),
        (403, "pause"),
        (404, "pause"),
        (405, "pause"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (None, "retry"),
        (418, "retry"),
    ],
)
def test_what_an_answer_means(status, verdict):
    assert classify(Answer(status, "")) == verdict


@given(st.integers(1, 200), st.floats(0.1, 10), st.floats(1, 10_000))
def test_backoff_grows_exponentially_within_its_ceiling_with_jitter(failures, base, ceiling):
    rng = random.Random(failures)
    delay = delivery.backoff_delay(failures, base=base, ceiling=ceiling, rng=rng)
    cap = min(ceiling, base * 2 ** min(failures - 1, 32))
    assert cap / 2 <= delay <= cap


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert delivery.parse_retry_after("2") == 2.0
    assert delivery.parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert delivery.parse_retry_after("soon") is None
    assert delivery.parse_retry_after(None) is None


def test_tls_is_always_verified(tmp_path):
    assert LrsClient(connect_timeout=1, read_timeout=1).session.verify is True
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    client = LrsClient(connect_timeout=1, read_timeout=1, ca_bundle=str(bundle))
    assert client.session.verify == str(bundle)


@pytest.fixture()
def tls_lrs(tmp_path):
    """The test LRS over HTTPS with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess

    from werkzeug.serving import make_server

    from tests.xapi.lrs import FakeLrs

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", 0, FakeLrs(), threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}/xapi/", str(cert)
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_untrusted_certificate_is_refused_and_a_configured_ca_is_trusted(tls_lrs):
    url, ca_bundle = tls_lrs
    target = Target(1, url, KEY, SECRET)
    refused = LrsClient(connect_timeout=2, read_timeout=2).about(target)
    assert refused.status is None and refused.text.startswith("TLS error")
    trusted = LrsClient(connect_timeout=2, read_timeout=2, ca_bundle=ca_bundle).about(target)
    assert trusted.status == 200


def test_the_secret_never_appears_in_a_target_repr():
    assert SECRET not in repr(Target(1, "https://lrs", KEY, SECRET))


class ScriptedLrs:
    """Answers batches like an LRS that refuses some statement ids (400) or holds some (409)."""

    def __init__(self, bad=(), held=()):
        self.bad, self.held, self.calls = set(bad), set(held), []

    def post_statements(self, target, body):
        ids = [int(part) for part in body.strip(b"[]").split(b",")]
        self.calls.append(ids)
        if self.bad & set(ids):
            return Answer(400, f"statement {min(self.bad & set(ids))} is invalid")
        if self.held & set(ids):
            return Answer(409, "conflict")
        return Answer(200, "[]")


def items(n):
    return [Item(i, str(i).encode()) for i in range(n)]


def test_bisection_isolates_the_bad_statements_and_delivers_the_rest():
    lrs = ScriptedLrs(bad={13, 77})
    outcome = delivery.send_batch(lrs, Target(1, "u", "k", "s"), items(100), 100)
    assert set(outcome.parked) == {13, 77}
    assert "statement 13 is invalid" in outcome.parked[13]
    assert len(outcome.delivered) == 98
    assert outcome.requests <= 2 * 2 * 7 + 1


def test_a_held_statement_alone_counts_as_delivered():
    outcome = delivery.send_batch(ScriptedLrs(held={5}), Target(1, "u", "k", "s"), items(8), 8)
    assert len(outcome.delivered) == 8 and outcome.parked == {}
    assert outcome.delivered[5] == "HTTP 409: already stored by the LRS"


def test_a_group_is_sent_in_batches_and_stops_at_the_first_failure():
    class Down(ScriptedLrs):
        def post_statements(self, target, body):
            super().post_statements(target, body)
            return Answer(200, "[]") if len(self.calls) == 1 else Answer(503, "down")

    lrs = Down()
    outcome = delivery.send_batch(lrs, Target(1, "u", "k", "s"), items(250), 100)
    assert [len(call) for call in lrs.calls] == [100, 100]
    assert len(outcome.delivered) == 100
    assert outcome.stopped == "retry" and len(outcome.unsent) == 150

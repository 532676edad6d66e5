"""Talking to an LRS: the HTTP transport, what its answers mean, back-off, bisection.

``tincan``'s ``RemoteLRS`` opens a new connection per call and has no time-outs, so the
transport is a ``requests.Session`` (connections reused, TLS verified, connect and read
time-outs on every call); ``tincan`` stays the statement model and serialiser.
Nothing here touches the database: the worker claims, this sends, the worker settles.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import requests

log = logging.getLogger(__name__)

#: Characters of an LRS's answer kept in an error message.
ANSWER_LIMIT = 500


@dataclass(frozen=True)
class Target:
    """What the transport needs of an endpoint; the secret never appears in its repr."""

    endpoint_id: int
    url: str
    key: str = field(repr=False)
    secret: str = field(repr=False)
    xapi_version: str = "1.0.3"

    @classmethod
    def of(cls, endpoint) -> Target:
        """The target of an ``LrsEndpoint``."""
        return cls(endpoint.id, endpoint.url, endpoint.key, endpoint.secret, endpoint.xapi_version)

    @property
    def statements_url(self) -> str:
        return self.url.rstrip("/") + "/statements"

    @property
    def about_url(self) -> str:
        return self.url.rstrip("/") + "/about"


@dataclass(frozen=True)
class Answer:
    """An LRS's answer; ``status`` is None when no HTTP answer came (time-out, refused)."""

    status: int | None
    text: str
    retry_after: float | None = None

    def describe(self) -> str:
        text = " ".join(self.text.split())[:ANSWER_LIMIT]
        if self.status is None:
            return text
        return f"HTTP {self.status}: {text}" if text else f"HTTP {self.status}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class LrsClient:
    """HTTP calls to LRSs over one ``requests.Session`` (one per worker thread)."""

    def __init__(
        self, *, connect_timeout: float, read_timeout: float, ca_bundle: str | None = None
    ):
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        #: TLS certificates are always verified; a bundle only replaces the trusted CAs.
        self.session.verify = ca_bundle or True
        self.session.trust_env = False

    @classmethod
    def from_config(cls, config) -> LrsClient:
        return cls(
            connect_timeout=float(config["XAPI_CONNECT_TIMEOUT"]),
            read_timeout=float(config["XAPI_READ_TIMEOUT"]),
            ca_bundle=config.get("XAPI_CA_BUNDLE") or None,
        )

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, url: str, target: Target, **kwargs) -> Answer:
        headers = {"X-Experience-API-Version": target.xapi_version, **kwargs.pop("headers", {})}
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                auth=(target.key, target.secret),
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.Timeout as error:
            kind = "connect" if isinstance(error, requests.ConnectTimeout) else "read"
            return Answer(None, f"no answer: {kind} time-out")
        except requests.exceptions.SSLError as error:
            return Answer(None, f"TLS error: {_reason(error)}")
        except requests.RequestException as error:
            return Answer(None, f"connection failed: {_reason(error)}")
        return Answer(
            response.status_code,
            #: Decoded here: ``response.text`` would guess the charset of JSON, slowly.
            response.content.decode(response.encoding or "utf-8", errors="replace"),
            parse_retry_after(response.headers.get("Retry-After")),
        )

    def post_statements(self, target: Target, body: bytes) -> Answer:
        """POST a JSON array of statements (already serialised) to the LRS."""
        return self._call(
            "POST",
            target.statements_url,
            target,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def about(self, target: Target) -> Answer:
        """GET the LRS's /about resource (its supported xAPI versions)."""
        return self._call("GET", target.about_url, target)


def _reason(error: BaseException) -> str:
    """The innermost cause of a transport error (addresses never carry credentials)."""
    cause, seen = error, set()
    while id(cause) not in seen:
        seen.add(id(cause))
        inner = cause.__cause__ or cause.__context__
        inner = inner or next((a for a in cause.args if isinstance(a, BaseException)), None)
        if inner is None:
            break
        cause = inner
    return (f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)[:300]


# What an answer means ----------------------------------------------------------------

DELIVERED, CONFLICT, REJECTED, PAUSE, RETRY = "delivered", "conflict", "rejected", "pause", "retry"


def classify(answer: Answer) -> str:
    """What to do after ``answer`` to a batch POST.

    delivered (2xx); conflict (409: a statement id the LRS holds; split, one alone
    counts as delivered); rejected (400/413: split, one alone is parked); pause
    (401/403 credentials refused, 404/405 no statements resource: the admin must fix
    it); retry (408, 429, 5xx, no answer, anything else).
    """
    status = answer.status
    if status is None:
        return RETRY
    if 200 <= status < 300:
        return DELIVERED
    if status == 409:
        return CONFLICT
    if status in (400, 413):
        return REJECTED
    if status in (401, 403, 404, 405):
        return PAUSE
    return RETRY


def backoff_delay(failures: int, *, base: float, ceiling: float, rng=random) -> float:
    """Seconds before the next try after ``failures`` failures in a row (>= 1).

    Exponential (base, 2 base, 4 base, ...) up to ``ceiling``, with "equal jitter": a
    random point in the upper half, so that workers retrying together spread out.
    """
    cap = min(ceiling, base * 2 ** min(max(failures, 1) - 1, 32))
    return cap / 2 + rng.uniform(0, cap / 2)


# Sending a batch, with bisection -----------------------------------------------------


class Item(NamedTuple):
    """A statement to send: its delivery's id and its JSON, UTF-8 encoded."""

    delivery_id: int
    body: bytes


@dataclass
class BatchOutcome:
    """How each delivery of a claimed batch ended."""

    #: delivery id -> the LRS's answer that settled it.
    delivered: dict[int, str] = field(default_factory=dict)
    #: delivery id -> the LRS's reason for refusing that statement alone.
    parked: dict[int, str] = field(default_factory=dict)
    #: Not settled (transient failure, or endpoint paused): their ids.
    unsent: list[int] = field(default_factory=list)
    #: PAUSE or RETRY when the batch stopped early, with the answer that stopped it.
    stopped: str | None = None
    answer: Answer | None = None
    requests: int = 0
    #: The status of the first 2xx answer (the usual answer of the delivered ones).
    status: int | None = None


def send_batch(
    client: LrsClient,
    target: Target,
    items: Sequence[Item],
    batch_size: int | None = None,
    before_request: Callable[[], None] | None = None,
) -> BatchOutcome:
    """POST ``items`` as JSON arrays of ``batch_size``, one after another.

    On 400/409/413 a batch is split in halves until the culprits are alone. Stops at
    the first pause or transient failure, leaving the rest in ``unsent``.
    ``before_request()`` runs before every request (the worker renews its lease there).
    """
    size = batch_size or len(items) or 1
    outcome = BatchOutcome()
    queue: list[Sequence[Item]] = [items[i : i + size] for i in range(0, len(items), size)]
    while queue:
        group = queue.pop(0)
        if before_request is not None:
            before_request()
        answer = client.post_statements(target, b"[" + b",".join(i.body for i in group) + b"]")
        outcome.requests += 1
        verdict = classify(answer)
        if verdict == DELIVERED:
            outcome.status = outcome.status or answer.status
            accepted = f"HTTP {answer.status}"
            outcome.delivered.update(dict.fromkeys((i.delivery_id for i in group), accepted))
        elif verdict in (CONFLICT, REJECTED) and len(group) > 1:
            middle = len(group) // 2
            queue[:0] = [group[:middle], group[middle:]]
        elif verdict == CONFLICT:
            outcome.delivered[group[0].delivery_id] = "HTTP 409: already stored by the LRS"
        elif verdict == REJECTED:
            outcome.parked[group[0].delivery_id] = answer.describe()
        else:
            outcome.stopped, outcome.answer = verdict, answer
            outcome.unsent = [item.delivery_id for g in [group, *queue] for item in g]
            break
    return outcome

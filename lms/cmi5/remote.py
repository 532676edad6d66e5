"""HTTP calls to the launching LMS: the fetch URL, its LRS's State, Agent Profile and
Statement resources (cmi5 spec, sections 8.2, 10 and 11).

Every call has connect and read time-outs, verifies TLS certificates, follows no
redirect and reads at most ``ANSWER_LIMIT_BYTES`` of an answer. The auth token goes in
the ``Authorization`` header only; fetch URLs and tokens never appear in errors or logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from lms.xapi.delivery import Answer, parse_retry_after

XAPI_VERSION = "1.0.3"
#: Bytes of an answer read at most (a launch document or a fetch answer is small).
ANSWER_LIMIT_BYTES = 256 * 1024


class LmsError(Exception):
    """The LMS did not answer as cmi5 says. ``kind``: ``unreachable`` (no answer),
    ``refused`` (an error answer: ``code`` and ``text`` are the LMS's), ``invalid``
    (an answer that is not what cmi5 defines)."""

    def __init__(self, kind: str, reason: str, code: str | None = None, text: str = ""):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.code = code
        self.text = text


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str
    retry_after: float | None


class LmsClient:
    """One ``requests.Session`` for the calls of one request or one delivery run."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, ca_bundle=None):
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.verify = ca_bundle or True
        self.session.trust_env = False

    @classmethod
    def from_config(cls, config) -> LmsClient:
        return cls(
            connect_timeout=float(config["CMI5_CONNECT_TIMEOUT"]),
            read_timeout=float(config["CMI5_READ_TIMEOUT"]),
            ca_bundle=config.get("XAPI_CA_BUNDLE") or None,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LmsClient:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs) -> _Reply:
        """One bounded HTTP call; raises ``LmsError("unreachable")`` without an answer."""
        try:
            with self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
            ) as response:
                body = _read_limited(response)
                return _Reply(
                    response.status_code,
                    body,
                    response.headers.get("Content-Type", ""),
                    parse_retry_after(response.headers.get("Retry-After")),
                )
        except requests.Timeout as error:
            kind = "connect" if isinstance(error, requests.ConnectTimeout) else "read"
            raise LmsError("unreachable", f"no answer: {kind} time-out") from None
        except requests.exceptions.SSLError:
            raise LmsError("unreachable", "TLS error: the certificate was refused") from None
        except requests.RequestException as error:
            raise LmsError("unreachable", f"connection failed ({type(error).__name__})") from None

    # The fetch URL (8.2) -------------------------------------------------------------

    def fetch_token(self, fetch_url: str) -> str:
        """POST to the one-time fetch URL and return the ``auth-token``.

        Raises ``LmsError``: ``refused`` with the LMS's ``error-code`` and ``error-text``
        (a fetch URL used before, or another refusal), ``invalid`` or ``unreachable``.
        """
        reply = self._request("POST", fetch_url, headers={"Accept": "application/json"})
        data = _json_object(reply)
        if data is not None and data.get("error-code") is not None:
            raise LmsError(
                "refused",
                f"the fetch URL answered error {data.get('error-code')}",
                code=str(data.get("error-code")),
                text=str(data.get("error-text") or "")[:300],
            )
        if reply.status != 200:
            raise LmsError("refused", f"the fetch URL answered HTTP {reply.status}")
        token = data.get("auth-token") if data is not None else None
        if not isinstance(token, str) or not token.strip():
            raise LmsError("invalid", "the fetch URL's answer has no auth-token")
        return token.strip()

    # The LMS's LRS (10, 11, 9) -------------------------------------------------------

    @staticmethod
    def _headers(token: str, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Basic {token}",
            "X-Experience-API-Version": XAPI_VERSION,
            **extra,
        }

    def launch_data(
        self, endpoint: str, token: str, *, actor: dict, activity_id: str, registration: str
    ) -> dict[str, Any]:
        """The ``LMS.LaunchData`` state document; raises ``LmsError`` without one."""
        params = {
            "stateId": "LMS.LaunchData",
            "activityId": activity_id,
            "agent": json.dumps(actor, separators=(",", ":")),
            "registration": registration,
        }
        reply = self._request(
            "GET", _join(endpoint, "activities/state"), params=params, headers=self._headers(token)
        )
        if reply.status != 200:
            raise LmsError("refused", f"LMS.LaunchData answered HTTP {reply.status}")
        data = _json_object(reply)
        if data is None:
            raise LmsError("invalid", "LMS.LaunchData is not a JSON object")
        return data

    def learner_preferences(self, endpoint: str, token: str, *, actor: dict) -> dict | None:
        """The ``cmi5LearnerPreferences`` agent profile, or None when there is none.

        A preference is a nicety: an error answer or a malformed document gives None.
        """
        params = {
            "profileId": "cmi5LearnerPreferences",
            "agent": json.dumps(actor, separators=(",", ":")),
        }
        reply = self._request(
            "GET", _join(endpoint, "agents/profile"), params=params, headers=self._headers(token)
        )
        return _json_object(reply) if reply.status == 200 else None

    def post_statement(self, endpoint: str, token: str, body: bytes) -> Answer:
        """POST one statement (already serialised); the answer, or one with no status."""
        headers = self._headers(token, **{"Content-Type": "application/json; charset=utf-8"})
        try:
            reply = self._request("POST", _join(endpoint, "statements"), data=body, headers=headers)
        except LmsError as error:
            return Answer(None, error.reason)
        text = reply.body.decode("utf-8", errors="replace")
        return Answer(reply.status, text, reply.retry_after)


def _join(endpoint: str, resource: str) -> str:
    return endpoint.rstrip("/") + "/" + resource


def _read_limited(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > ANSWER_LIMIT_BYTES:
            raise LmsError("invalid", "the answer is too large")
    return b"".join(chunks)


def _json_object(reply: _Reply) -> dict | None:
    try:
        data = json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None

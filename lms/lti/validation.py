"""The launch (the platform's POST of ``id_token`` and ``state``), validated in full.

``ToolMessageLaunch.validate`` checks, in this order: state (cookie matches), JWT
format, registration (issuer and audience/azp), signature (RS256 with the platform's
published key, ``exp``/``iat`` with a small leeway, required claims), deployment,
message type, and last the nonce (consumed only once everything else holds). Every
failure is a ``LaunchRefused`` with its reason.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jwt
import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.exception import LtiException

from lms.lti import claims, nonces
from lms.lti.errors import LaunchRefused
from lms.lti.models import Platform
from lms.lti.tool import DbToolConf, StateCookies, adapters, http_session, registration_for

#: Seconds a fetched platform keyset is reused (refetched at once for an unknown kid).
KEYSET_TTL = 300.0
#: Seconds of clock difference tolerated on ``exp`` and ``iat``.
LEEWAY = 30
#: Claims an id token must carry (the signature check refuses it otherwise).
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "nonce"]

_keysets: dict[str, tuple[float, dict[str, Any]]] = {}
_keysets_lock = threading.Lock()


def fetch_keyset(url: str, session: requests.Session, *, refresh: bool = False) -> dict:
    """A platform's JWKS, reused for ``KEYSET_TTL`` unless ``refresh``.

    Raises ``LaunchRefused("keys_unavailable")`` when it cannot be fetched or read.
    """
    with _keysets_lock:
        cached = _keysets.get(url)
    if cached and not refresh and time.monotonic() - cached[0] < KEYSET_TTL:
        return cached[1]
    try:
        response = session.get(url)
        response.raise_for_status()
        keyset = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LaunchRefused("keys_unavailable", f"{url}: {error}") from error
    if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
        raise LaunchRefused("keys_unavailable", f"{url}: not a JWKS")
    with _keysets_lock:
        _keysets[url] = (time.monotonic(), keyset)
    return keyset


class ToolMessageLaunch(FlaskMessageLaunch):
    """The launch (the platform's POST of ``id_token`` and ``state``), validated in full;
    every failure is a ``LaunchRefused`` with its reason."""

    def __init__(self, tool_conf: DbToolConf):
        lti_request, store, cookies = adapters()
        super().__init__(
            lti_request,
            tool_conf,
            session_service=store,
            cookie_service=cookies,
            requests_session=http_session(),
        )
        self.platform: Platform | None = None
        self._client_id: str | None = None
        self._refresh_keys = False

    @property
    def cookies(self) -> StateCookies:
        return self._cookie_service

    def validate(self) -> ToolMessageLaunch:
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_deployment()
            self.validate_message()
            self.validate_nonce()
        except Exception:
            self._validated = False
            raise
        return self

    def _refuse(self, reason: str, detail: str = "") -> LaunchRefused:
        return LaunchRefused(reason, detail, self.platform)

    def validate_state(self) -> ToolMessageLaunch:
        state = self._get_request_param("state")
        if not state or not state.startswith("state-"):
            raise self._refuse("state", "state parameter missing")
        if self._cookie_service.get_cookie(state) != state:
            raise self._refuse("state", "no state cookie matches")
        self.cookies.expire(state)
        return self

    def validate_jwt_format(self) -> ToolMessageLaunch:
        try:
            super().validate_jwt_format()
        except LtiException as error:
            raise self._refuse("malformed", str(error)) from error
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(
            self._jwt.get("body"), dict
        ):
            raise self._refuse("malformed", "id_token header or body is not an object")
        return self

    def get_client_id(self) -> str:
        return self._client_id or super().get_client_id()

    def _audience(self, body: dict) -> str:
        """Our client id from ``aud`` (and ``azp`` when there are several audiences)."""
        aud = body.get("aud")
        if isinstance(aud, str) and aud:
            return aud
        if not isinstance(aud, list) or not aud or not all(isinstance(a, str) for a in aud):
            raise self._refuse("malformed", "aud missing")
        if len(aud) == 1:
            return aud[0]
        if body.get("azp") not in aud:
            raise self._refuse("wrong_audience", "several audiences without a matching azp")
        return body["azp"]

    def validate_registration(self) -> ToolMessageLaunch:
        body = self._jwt["body"]
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise self._refuse("malformed", "iss missing")
        client_id = self._audience(body)
        platform = self._tool_config.platform(iss, client_id)
        if platform is None:
            if self._tool_config.issuer_known(iss):
                raise self._refuse("wrong_audience", f"{iss} has no client {client_id}")
            raise self._refuse("unknown_platform", f"no registration for {iss}")
        self.platform = platform
        if not platform.enabled:
            raise self._refuse("platform_disabled")
        self._client_id = client_id
        self._session_service.platform = platform
        self._registration = registration_for(platform)
        return self

    def fetch_public_key(self, key_set_url: str):
        return fetch_keyset(key_set_url, self._requests_session, refresh=self._refresh_keys)

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        alg = self._jwt["header"].get("alg")
        if alg != "RS256":
            raise self._refuse("bad_signature", f"algorithm {alg!r} is not RS256")
        try:
            public_key, _alg = self.get_public_key()
        except LtiException:
            # Perhaps the platform rotated its keys since we cached them: look again.
            self._registration.set_key_set(None)
            self._refresh_keys = True
            try:
                public_key, _alg = self.get_public_key()
            except LtiException as error:
                raise self._refuse("unknown_key", str(error)) from error
        self._decode(public_key)
        return self

    def _decode(self, public_key) -> None:
        try:
            jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self.platform.issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as error:
            raise self._refuse("expired", str(error)) from error
        except jwt.InvalidAudienceError as error:
            raise self._refuse("wrong_audience", str(error)) from error
        except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as error:
            raise self._refuse("not_yet_valid", str(error)) from error
        except jwt.MissingRequiredClaimError as error:
            raise self._refuse("malformed", str(error)) from error
        except jwt.InvalidTokenError as error:
            raise self._refuse("bad_signature", str(error)) from error
        azp = self._jwt["body"].get("azp")
        if azp is not None and azp != self._client_id:
            raise self._refuse("wrong_audience", f"azp {azp!r}")

    def validate_deployment(self) -> ToolMessageLaunch:
        deployment_id = self._jwt["body"].get(claims.DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise self._refuse("malformed", "deployment_id missing")
        try:
            super().validate_deployment()
        except LtiException as error:
            raise self._refuse("unknown_deployment", deployment_id) from error
        return self

    def validate_message(self) -> ToolMessageLaunch:
        message_type = self._jwt["body"].get(claims.MESSAGE_TYPE)
        if message_type not in claims.SUPPORTED_MESSAGES:
            raise self._refuse("unsupported_message", str(message_type)[:80])
        try:
            super().validate_message()
        except LtiException as error:
            raise self._refuse("malformed", str(error)) from error
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        nonces.consume(self._jwt["body"].get("nonce"), self.platform)
        return self

    @property
    def claimed_issuer(self) -> str | None:
        """The issuer the id token claims, verified or not (for the audit of refusals)."""
        body = self._jwt.get("body")
        if not isinstance(body, dict):
            try:
                body = json.loads(self.urlsafe_b64decode(self._get_id_token().split(".")[1]))
            except (LtiException, IndexError, ValueError, UnicodeDecodeError):
                return None
        iss = body.get("iss") if isinstance(body, dict) else None
        return iss[:200] if isinstance(iss, str) else None

    @property
    def body(self) -> dict[str, Any]:
        """The validated id token's claims."""
        return self.get_launch_data()

"""pylti1p3 plugged into this service: registrations from the database, nonces in the
database, the state in a cookie of its own, HTTP with time-outs, and refusals with
reasons.

The library's Flask contrib keeps the nonce and the launch in Flask's session, which
lives in our ``SameSite=Lax`` session cookie. A browser does not send that cookie with
the platform's cross-site POST of the id token, so the launch would never find its
nonce; the usual fix, ``SameSite=None`` on the session cookie, would expose every page
of the service to cross-site requests. Instead:

* the nonce is stored in the database (``nonces``), bound to the platform, usable once;
* the state travels in a short-lived cookie of its own (``lti1p3-state-...``, path
  ``/lti/``, HttpOnly, five minutes), ``SameSite=None; Secure; Partitioned`` over HTTPS,
  so it survives the cross-site POST (also in a platform's iframe, partitioned per
  top-level site where third-party cookies are blocked);
* the Flask session is never touched by the library (its request gets an empty dict).

The launch itself is validated in ``lms.lti.validation``.
"""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa
from flask import current_app, request, url_for
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskOIDCLogin,
    FlaskRequest,
    FlaskSessionService,
)
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from lms.extensions import db
from lms.lti import keys, nonces
from lms.lti.errors import LaunchRefused
from lms.lti.models import Platform

USER_AGENT = "LMS-LTI-tool"
#: Seconds to connect to a platform at most (``LMS_LTI_HTTP_TIMEOUT`` bounds the answer).
CONNECT_TIMEOUT = 5.0


class HttpSession(requests.Session):
    """A requests session whose every call has a time-out and verifies TLS."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def http_session() -> HttpSession:
    """A session whose calls connect within 5 s (or the configured time when shorter) and
    read within ``LMS_LTI_HTTP_TIMEOUT`` seconds (15 by default)."""
    read = float(current_app.config["LTI_HTTP_TIMEOUT"])
    return HttpSession((min(CONNECT_TIMEOUT, read), read))


# Registrations -------------------------------------------------------------------------


class ToolRegistration(Registration):
    """A platform's registration with this tool's current signing key."""

    def __init__(self, platform: Platform, key):
        super().__init__()
        self.platform = platform
        self._kid = key.kid
        self.set_issuer(platform.issuer).set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.keyset_url)
        self.set_tool_private_key(key.private_pem)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)

    def get_kid(self) -> str:
        return self._kid

    def get_jwks(self) -> list[dict[str, Any]]:
        return keys.jwks()["keys"]


def registration_for(platform: Platform) -> ToolRegistration:
    return ToolRegistration(platform, keys.ensure_current_key())


class DbToolConf(ToolConfAbstract):
    """The tool configuration from the database: one row per issuer and client id."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def platform(self, iss: str, client_id: str | None) -> Platform | None:
        """The registration of ``iss`` and ``client_id`` (enabled or not), or None.

        Without a client id, the issuer's registration when it has only one.
        """
        query = sa.select(Platform).where(Platform.issuer == iss)
        if client_id:
            return db.session.scalar(query.where(Platform.client_id == client_id))
        found = db.session.scalars(query.limit(2)).all()
        return found[0] if len(found) == 1 else None

    def issuer_known(self, iss: str) -> bool:
        return db.session.scalar(sa.select(Platform.id).where(Platform.issuer == iss)) is not None

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration | None:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        platform = self.platform(iss, client_id)
        return registration_for(platform) if platform and platform.enabled else None

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        platform = self.platform(iss, client_id)
        if platform is None or deployment_id not in platform.deployment_ids:
            return None
        return Deployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss=None, client_id=None, **kwargs):
        return keys.jwks()


# Browser state and nonces ------------------------------------------------------------


class StateCookies(FlaskCookieService):
    """The state cookie: path /lti/, HttpOnly; cross-site capable over HTTPS."""

    def expire(self, name: str) -> None:
        self.set_cookie(name, "", 0)

    def update_response(self, response) -> None:
        secure = self._request.is_secure()
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(
                key,
                str(data["value"]),
                max_age=data["exp"],
                path=request.script_root + "/lti/",
                secure=secure,
                httponly=True,
                samesite="None" if secure else None,
                partitioned=secure,
            )


class NonceStore(FlaskSessionService):
    """Nonces in the database (``lms.lti.nonces``) instead of Flask's session."""

    platform: Platform | None = None

    def save_nonce(self, nonce: str) -> None:
        nonces.issue(nonce, self.platform)

    def check_nonce(self, nonce: str) -> bool:
        try:
            nonces.consume(nonce, self.platform)
        except LaunchRefused:
            return False
        return True


def adapters() -> tuple[FlaskRequest, NonceStore, StateCookies]:
    lti_request = FlaskRequest(session={})
    return lti_request, NonceStore(lti_request), StateCookies(lti_request)


def _public_url(endpoint_path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + endpoint_path


def is_our_url(url: str | None) -> bool:
    """True when ``url`` is an address of this service (under its public base URL)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/"
    return isinstance(url, str) and url.startswith(base)


# Login initiation --------------------------------------------------------------------


class ToolOIDCLogin(FlaskOIDCLogin):
    """The third-party initiated login: check the platform, then redirect to its
    authorisation endpoint with a fresh state (cookie) and nonce (database)."""

    def __init__(self, tool_conf: DbToolConf):
        lti_request, store, cookies = adapters()
        super().__init__(lti_request, tool_conf, session_service=store, cookie_service=cookies)
        self.platform: Platform | None = None

    def validate_oidc_login(self) -> Registration:
        iss = self._get_request_param("iss")
        if not iss or not self._get_request_param("login_hint"):
            raise LaunchRefused("malformed", "login initiation without iss or login_hint")
        platform = self._tool_config.platform(iss, self._get_request_param("client_id"))
        if platform is None:
            raise LaunchRefused("unknown_platform", f"no registration for {iss}")
        if not platform.enabled:
            raise LaunchRefused("platform_disabled", platform=platform)
        deployment = self._get_request_param("lti_deployment_id")
        if deployment and deployment not in platform.deployment_ids:
            raise LaunchRefused("unknown_deployment", deployment, platform)
        target = self._get_request_param("target_link_uri")
        if target and not is_our_url(target):
            raise LaunchRefused("target", target, platform)
        self.platform = platform
        self._session_service.platform = platform
        return registration_for(platform)


def launch_url() -> str:
    """Our redirect URI (where platforms POST the id token), as registered with them."""
    return _public_url(url_for("lti.launch"))

"""A learning platform simulated for the tests, as a real one behaves on the wire.

It has real RSA keys and publishes them as a JWKS over HTTP (pytest-httpserver on
127.0.0.1); it signs id tokens with PyJWT; its OAuth 2 token endpoint checks our
client-credentials JWT against our published JWKS; its AGS endpoints keep line items
and the scores posted to them, checking the bearer token.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.wrappers import Request, Response

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
ADMINISTRATOR = LIS + "institution/person#Administrator"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


class PlatformKey:
    """An RSA key pair of the platform with its kid."""

    def __init__(self):
        self.kid = f"platform-{uuid.uuid4().hex[:12]}"
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def jwk(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}


class SimulatedPlatform:
    """A platform at ``httpserver``: issuer, keys, OIDC, token and AGS endpoints."""

    def __init__(self, httpserver, *, client_id: str = "lms-tool", deployment_id: str = "1"):
        self.server = httpserver
        self.issuer = httpserver.url_for("/").rstrip("/")
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.key = PlatformKey()
        self.published = [self.key]
        self.auth_login_url = httpserver.url_for("/auth")
        self.token_url = httpserver.url_for("/token")
        self.keyset_url = httpserver.url_for("/jwks")
        self.lineitems_url = httpserver.url_for("/courses/7/lineitems")
        #: Our JWKS as the platform fetched it (set by the test from /lti/jwks.json).
        self.tool_jwks: dict[str, Any] = {"keys": []}
        self.token_requests: list[dict[str, Any]] = []
        self.access_tokens: set[str] = set()
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.keyset_fetches = 0
        #: Status the score endpoint answers with (201 by default).
        self.score_status = 200
        self._serve()

    # HTTP endpoints -------------------------------------------------------------------

    def _serve(self) -> None:
        server = self.server
        server.expect_request("/jwks", method="GET").respond_with_handler(self._jwks)
        server.expect_request("/token", method="POST").respond_with_handler(self._token)
        server.expect_request("/courses/7/lineitems", method="GET").respond_with_handler(
            self._list_lineitems
        )
        server.expect_request("/courses/7/lineitems", method="POST").respond_with_handler(
            self._create_lineitem
        )
        server.expect_request(
            re.compile(r"^/courses/7/lineitems/\d+/scores$"), method="POST"
        ).respond_with_handler(self._score)

    def _jwks(self, request: Request) -> Response:
        self.keyset_fetches += 1
        body = {"keys": [key.jwk() for key in self.published]}
        return Response(json.dumps(body), content_type="application/json")

    def _token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        record = {key: values[0] for key, values in form.items()}
        assertion = record.get("client_assertion", "")
        record["header"] = jwt.get_unverified_header(assertion) if assertion else {}
        try:
            key = next(
                k for k in self.tool_jwks["keys"] if k.get("kid") == record["header"].get("kid")
            )
            record["claims"] = jwt.decode(
                assertion,
                RSAAlgorithm.from_jwk(key),
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=self.client_id,
            )
            record["verified"] = True
        except (StopIteration, jwt.InvalidTokenError) as error:
            record["verified"] = False
            record["error"] = str(error)
        self.token_requests.append(record)
        ok = (
            record["verified"]
            and record.get("grant_type") == "client_credentials"
            and record.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
        if not ok:
            return Response('{"error": "invalid_client"}', 401, content_type="application/json")
        token = uuid.uuid4().hex
        self.access_tokens.add(token)
        body = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        return Response(json.dumps(body), content_type="application/json")

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.access_tokens

    def _list_lineitems(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response("", 401)
        body = json.dumps(list(self.lineitems.values()))
        return Response(body, content_type="application/vnd.ims.lis.v2.lineitemcontainer+json")

    def _create_lineitem(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response("", 401)
        item = json.loads(request.get_data(as_text=True))
        item["id"] = f"{self.lineitems_url}/{len(self.lineitems) + 1}"
        self.lineitems[item["id"]] = item
        return Response(
            json.dumps(item), 201, content_type="application/vnd.ims.lis.v2.lineitem+json"
        )

    def _score(self, request: Request) -> Response:
        self.scores.append(
            {
                "path": request.path,
                "authorised": self._authorised(request),
                "content_type": request.headers.get("Content-Type"),
                "body": json.loads(request.get_data(as_text=True)),
            }
        )
        if not self._authorised(request):
            return Response("", 401)
        return Response("", self.score_status)

    # Messages -------------------------------------------------------------------------

    def lineitem_url(self, number: int = 1) -> str:
        return f"{self.lineitems_url}/{number}"

    def login_params(self, **overrides) -> dict[str, str]:
        """The third-party initiated login the platform sends to the tool."""
        params = {
            "iss": self.issuer,
            "login_hint": "user-hint-42",
            "target_link_uri": "http://lms.test/modules/alpha",
            "lti_message_hint": "message-hint-7",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def claims(
        self,
        nonce: str,
        *,
        sub: str = "platform-user-1",
        roles: list[str] | None = None,
        message_type: str = "LtiResourceLinkRequest",
        module_id: str | None = "alpha",
        ags: bool = True,
        lineitem: bool = True,
        **overrides,
    ) -> dict[str, Any]:
        """An id token's claims as the platform sends them for a launch."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": f"{sub}@example.org",
            CLAIM + "message_type": message_type,
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": "http://lms.test/modules/alpha",
            CLAIM + "roles": roles if roles is not None else [LEARNER],
            CLAIM + "context": {"id": "course-7", "title": "GMP for operators"},
            CLAIM + "launch_presentation": {"locale": "fr-FR"},
        }
        if message_type == "LtiResourceLinkRequest":
            body[CLAIM + "resource_link"] = {"id": "link-1", "title": "Alpha quiz"}
            if module_id:
                body[CLAIM + "custom"] = {"module_id": module_id}
            if ags:
                body[AGS] = {"scope": SCOPES, "lineitems": self.lineitems_url}
                if lineitem:
                    body[AGS]["lineitem"] = self.lineitem_url(1)
        elif message_type == "LtiDeepLinkingRequest":
            body[CLAIM + "target_link_uri"] = "http://lms.test/lti/launch"
            body[DL_SETTINGS] = {
                "deep_link_return_url": self.server.url_for("/deep-link-return"),
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            }
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not None}

    def sign(self, claims: dict[str, Any], *, key: PlatformKey | None = None, kid=None) -> str:
        key = key or self.key
        return jwt.encode(claims, key.pem, algorithm="RS256", headers={"kid": kid or key.kid})


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect location, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

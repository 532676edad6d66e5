"""A cmi5 LMS simulated on 127.0.0.1 (pytest-httpserver), strict where cmi5 is.

It issues launches as an LMS does (cmi5 spec, 8 and 10): a one-time fetch URL that
returns the auth token once and the cmi5 error on any later POST (error-code 1, HTTP
200, JSON); an LRS under ``/lrs/`` whose State resource returns ``LMS.LaunchData`` for
the launch's activity, agent and registration only, whose Agent Profile resource holds
``cmi5LearnerPreferences``, and whose Statements resource checks the Basic token of the
session and the xAPI version header, then stores the statements in arrival order.
``down`` makes the statements resource answer 503 (an outage).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from lms.cmi5.statements import SESSION_ID

HOME_PAGE = "https://lms.example.org"


@dataclass
class SimulatedLaunch:
    """What the LMS set up for one launch (one AU session)."""

    key: str
    token: str
    module_id: str
    actor: dict
    registration: str
    activity_id: str
    publisher_id: str
    session_id: str
    launch_data: dict
    fetches: int = 0

    @property
    def context_template(self) -> dict:
        return self.launch_data["contextTemplate"]


@dataclass
class SimulatedLms:
    server: HTTPServer
    launches: dict[str, SimulatedLaunch] = field(default_factory=dict)
    #: Statements stored, in arrival order (the LRS's record).
    statements: list[dict] = field(default_factory=list)
    #: Requests refused, with the reason (a test asserts there were none, or some).
    refusals: list[str] = field(default_factory=list)
    #: Agent profiles: actor account name -> cmi5LearnerPreferences.
    preferences: dict[str, dict] = field(default_factory=dict)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.server.expect_request(re.compile(r"^/fetch/[\w-]+$")).respond_with_handler(self.fetch)
        self.server.expect_request("/lrs/activities/state").respond_with_handler(self.state)
        self.server.expect_request("/lrs/agents/profile").respond_with_handler(self.profile)
        self.server.expect_request("/lrs/statements").respond_with_handler(self.statements_api)

    # Setting up launches -------------------------------------------------------------

    @property
    def origin(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def endpoint(self) -> str:
        return self.server.url_for("/lrs/")

    def launch(
        self,
        module_id: str,
        *,
        learner: str = "learner-1625378",
        registration: str | None = None,
        mode: str = "Normal",
        move_on: str = "CompletedAndPassed",
        mastery_score: float | None = 0.8,
        return_url: str | None = "https://lms.example.org/courses/7",
        actor_name: str | None = "Sam Operator",
    ) -> SimulatedLaunch:
        """Prepare a launch of ``module_id`` (the state document is written, as cmi5
        requires before launching); ``url()`` gives the AU's launch query string."""
        actor = {"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": learner}}
        if actor_name:
            actor["name"] = actor_name
        publisher_id = f"http://lms.test/xapi/activities/modules/{module_id}"
        session_id = str(uuid.uuid4())
        data = {
            "contextTemplate": {
                "contextActivities": {"grouping": [{"id": publisher_id, "objectType": "Activity"}]},
                "extensions": {SESSION_ID: session_id},
            },
            "launchMode": mode,
            "launchMethod": "OwnWindow",
            "moveOn": move_on,
        }
        if mastery_score is not None:
            data["masteryScore"] = mastery_score
        if return_url:
            data["returnURL"] = return_url
        launch = SimulatedLaunch(
            key=secrets.token_hex(8),
            token=secrets.token_urlsafe(24),
            module_id=module_id,
            actor=actor,
            registration=registration or str(uuid.uuid4()),
            activity_id=f"https://lms.example.org/au/{module_id}",
            publisher_id=publisher_id,
            session_id=session_id,
            launch_data=data,
        )
        with self.lock:
            self.launches[launch.key] = launch
        return launch

    def url(self, launch: SimulatedLaunch, **overrides) -> str:
        params = {
            "endpoint": self.endpoint,
            "fetch": self.server.url_for(f"/fetch/{launch.key}"),
            "actor": json.dumps(launch.actor),
            "registration": launch.registration,
            "activityId": launch.activity_id,
            **overrides,
        }
        params = {name: value for name, value in params.items() if value is not None}
        return f"/cmi5/launch/{launch.module_id}?{urlencode(params)}"

    def received(self, launch: SimulatedLaunch | None = None) -> list[dict]:
        """Statements stored (of one launch's session), in arrival order."""
        with self.lock:
            stored = list(self.statements)
        if launch is None:
            return stored
        return [
            s for s in stored if s["context"]["extensions"].get(SESSION_ID) == launch.session_id
        ]

    def verbs(self, launch: SimulatedLaunch | None = None) -> list[str]:
        return [s["verb"]["id"].rsplit("/", 1)[-1] for s in self.received(launch)]

    # The LMS's side ------------------------------------------------------------------

    def _refuse(self, reason: str, status: int) -> Response:
        with self.lock:
            self.refusals.append(reason)
        return Response(reason, status)

    def _launch_of(self, request: Request) -> SimulatedLaunch | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        token = header[len("Basic ") :]
        return next((x for x in self.launches.values() if x.fetches and x.token == token), None)

    def fetch(self, request: Request) -> Response:
        if request.method != "POST":
            return self._refuse("the fetch URL takes POST only", 405)
        launch = self.launches.get(request.path.rsplit("/", 1)[-1])
        if launch is None:
            body = {"error-code": "2", "error-text": "Unknown launch."}
        else:
            with self.lock:
                launch.fetches += 1
                first = launch.fetches == 1
            body = (
                {"auth-token": launch.token}
                if first
                else {
                    "error-code": "1",
                    "error-text": "The authorization token has already been returned.",
                }
            )
        return Response(json.dumps(body), 200, content_type="application/json")

    def _xapi_checked(self, request: Request) -> SimulatedLaunch | Response:
        launch = self._launch_of(request)
        if launch is None:
            return self._refuse(f"{request.path}: no valid Basic auth token", 401)
        if request.headers.get("X-Experience-API-Version") != "1.0.3":
            return self._refuse(f"{request.path}: no X-Experience-API-Version 1.0.3", 400)
        return launch

    def state(self, request: Request) -> Response:
        launch = self._xapi_checked(request)
        if isinstance(launch, Response):
            return launch
        args = request.args
        if (
            request.method != "GET"
            or args.get("stateId") != "LMS.LaunchData"
            or args.get("activityId") != launch.activity_id
            or args.get("registration") != launch.registration
            or json.loads(args.get("agent", "null")) != launch.actor
        ):
            return self._refuse("state: not this launch's LMS.LaunchData", 404)
        return Response(json.dumps(launch.launch_data), 200, content_type="application/json")

    def profile(self, request: Request) -> Response:
        launch = self._xapi_checked(request)
        if isinstance(launch, Response):
            return launch
        if request.args.get("profileId") != "cmi5LearnerPreferences":
            return self._refuse("profile: unknown profile", 404)
        found = self.preferences.get(launch.actor["account"]["name"])
        if found is None:
            return Response("", 404)
        return Response(json.dumps(found), 200, content_type="application/json")

    def statements_api(self, request: Request) -> Response:
        if self.down:
            return Response("LRS down for maintenance", 503)
        launch = self._xapi_checked(request)
        if isinstance(launch, Response):
            return launch
        if request.method != "POST":
            return self._refuse("statements: only POST is simulated", 405)
        body = json.loads(request.get_data(as_text=True))
        batch = body if isinstance(body, list) else [body]
        for statement in batch:
            extensions = (statement.get("context") or {}).get("extensions") or {}
            if extensions.get(SESSION_ID) != launch.session_id:
                return self._refuse("statements: not the token's session", 400)
        with self.lock:
            known = {s["id"] for s in self.statements}
            fresh = [s for s in batch if s["id"] not in known]
            self.statements.extend(fresh)
        return Response(json.dumps([s["id"] for s in batch]), 200, content_type="application/json")

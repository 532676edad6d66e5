"""Reading a cmi5 launch: the URL parameters (cmi5 spec, 8.1) and ``LMS.LaunchData`` (10).

Pure functions over plain values: they return what was launched, or raise
``LaunchError`` with a message for the person and the HTTP status of the refusal.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from lms.cmi5.models import LAUNCH_MODES, MOVE_ON
from lms.cmi5.statements import SESSION_ID
from lms.xapi.validation import is_iri

PARAMETERS = ("endpoint", "fetch", "actor", "registration", "activityId")
#: Host names we accept in a launch's URLs: DNS names, IPv4 or IPv6 addresses.
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]+")
#: Longest launch parameter accepted (an actor or a URL is far shorter).
MAX_PARAMETER = 4096


class LaunchError(Exception):
    """A launch refused; ``message`` is for the person, ``status`` the HTTP status."""

    def __init__(self, message, status: int = 400, details: list | None = None):
        super().__init__(str(message))
        self.message = message
        self.status = status
        self.details = details or []


@dataclass(frozen=True)
class LaunchParameters:
    endpoint: str
    fetch: str
    actor: dict[str, Any]
    registration: str
    activity_id: str

    @property
    def account(self) -> tuple[str, str]:
        """The actor's account: (homePage, name)."""
        account = self.actor["account"]
        return account["homePage"], account["name"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower case, default ports left out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and bool(_HOST.fullmatch(parts.hostname or ""))
        and not parts.username
        and not parts.password
        and not any(char.isspace() for char in value)
    )


def _actor(raw: str, out: list) -> dict[str, Any] | None:
    try:
        actor = json.loads(raw)
    except ValueError:
        out.append(_l("The actor parameter is not JSON."))
        return None
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        out.append(_l("The actor parameter must be an xAPI Agent."))
        return None
    account = actor.get("account")
    if (
        not isinstance(account, dict)
        or not isinstance(account.get("homePage"), str)
        or not is_iri(account["homePage"])
        or not isinstance(account.get("name"), str)
        or not account["name"].strip()
    ):
        out.append(_l("The actor must have an account with a homePage and a name (cmi5 9.2)."))
        return None
    if any(key in actor for key in ("mbox", "mbox_sha1sum", "openid")):
        out.append(_l("The actor must be identified by its account only."))
        return None
    return actor


def parse_parameters(args: Mapping[str, str]) -> LaunchParameters:
    """The five launch parameters, checked; raises ``LaunchError`` (400) listing problems."""
    problems: list = []
    values = {name: (args.get(name) or "").strip() for name in PARAMETERS}
    for name, value in values.items():
        if not value:
            problems.append(_l("The launch parameter %(name)s is missing.", name=name))
        elif len(value) > MAX_PARAMETER:
            problems.append(_l("The launch parameter %(name)s is too long.", name=name))
    if problems:
        raise LaunchError(_l("This launch link is not complete."), 400, problems)
    for name in ("endpoint", "fetch"):
        if not _http_url(values[name]):
            problems.append(_l("The launch parameter %(name)s is not an http(s) URL.", name=name))
    actor = _actor(values["actor"], problems)
    try:
        registration = str(uuid.UUID(values["registration"]))
    except ValueError:
        registration = ""
        problems.append(_l("The registration is not a UUID."))
    if not is_iri(values["activityId"]):
        problems.append(_l("The activityId is not an IRI."))
    if problems:
        raise LaunchError(_l("This launch link is not valid."), 400, problems)
    return LaunchParameters(
        values["endpoint"], values["fetch"], actor, registration, values["activityId"]
    )


@dataclass(frozen=True)
class LaunchData:
    """What the AU uses of ``LMS.LaunchData``."""

    context_template: dict[str, Any]
    session_id: str
    launch_mode: str
    move_on: str
    mastery_score: float | None
    return_url: str | None
    launch_method: str | None


def parse_launch_data(data: Mapping[str, Any]) -> LaunchData:
    """Check ``LMS.LaunchData``; raises ``LaunchError`` (502: the LMS's document is wrong)."""
    problems: list[str] = []
    template = data.get("contextTemplate")
    session_id = None
    if not isinstance(template, dict):
        problems.append("contextTemplate is missing")
        template = {}
    else:
        session_id = (template.get("extensions") or {}).get(SESSION_ID)
        if not isinstance(session_id, str) or not session_id.strip():
            problems.append("contextTemplate has no session id extension")
    mode = data.get("launchMode")
    if mode not in LAUNCH_MODES:
        problems.append(f"launchMode {mode!r} is not Normal, Browse or Review")
    move_on = data.get("moveOn") or "NotApplicable"
    if move_on not in MOVE_ON:
        problems.append(f"moveOn {move_on!r} is not a cmi5 value")
    mastery = data.get("masteryScore")
    if mastery is not None:
        if isinstance(mastery, bool) or not isinstance(mastery, int | float):
            problems.append("masteryScore is not a number")
            mastery = None
        elif not 0 <= mastery <= 1:
            problems.append("masteryScore is not between 0 and 1")
    return_url = data.get("returnURL") or None
    if return_url is not None and (not isinstance(return_url, str) or not _http_url(return_url)):
        problems.append("returnURL is not an http(s) URL")
    if problems:
        raise LaunchError(
            _l("Your learning platform sent launch data this module cannot use."), 502, problems
        )
    return LaunchData(
        context_template=template,
        session_id=session_id.strip(),
        launch_mode=mode,
        move_on=move_on,
        mastery_score=float(mastery) if mastery is not None else None,
        return_url=return_url,
        launch_method=data.get("launchMethod"),
    )


def preferred_language(preferences: Mapping[str, Any] | None, supported) -> str | None:
    """The first of the learner's ``languagePreference`` tags we support (by primary
    subtag: ``fr-BE`` gives ``fr``), or None."""
    if not preferences:
        return None
    value = preferences.get("languagePreference")
    if not isinstance(value, str):
        return None
    for tag in value.split(","):
        primary = tag.strip().split("-")[0].lower()
        if primary in supported:
            return primary
    return None

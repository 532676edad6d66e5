"""LTI roles (LIS vocabulary) to our roles. Pure functions.

Context roles say what the person does in the course that launched us; institution and
system roles what they are in the platform. ``Administrator`` (any level) maps to an
admin of the platform's organisation, ``Instructor``, its teaching assistants and
content developers to a trainer, everyone else to a learner. The result never exceeds
``cap``: an LTI launch can never make anyone a centre admin.
"""

from __future__ import annotations

from collections.abc import Iterable

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ORDER = ("learner", "trainer", "admin")

#: (kind, principal role) -> our role; kind is membership, institution or system.
MAPPING = {
    ("membership", "Administrator"): "admin",
    ("institution", "Administrator"): "admin",
    ("system", "Administrator"): "admin",
    ("system", "SysAdmin"): "admin",
    ("membership", "Instructor"): "trainer",
    ("membership", "ContentDeveloper"): "trainer",
    ("institution", "Instructor"): "trainer",
    ("institution", "Faculty"): "trainer",
}

#: Roles that may choose our content for a course (deep linking).
CHOOSERS = {("membership", "Instructor"), ("membership", "ContentDeveloper")} | {
    key for key, role in MAPPING.items() if role == "admin"
}


def parse(role: str) -> tuple[str, str]:
    """``(kind, principal)`` of an LTI role URI, e.g. ``("membership", "Instructor")``.

    A sub-role (``membership/Instructor#TeachingAssistant``) counts as its principal role;
    a bare name (``Instructor``, the deprecated short form) as a context role.
    """
    if not role.startswith(LIS):
        return "membership", role.rsplit("#", 1)[-1]
    path, _hash, name = role[len(LIS) :].partition("#")
    parts = path.split("/")
    if parts[0] == "membership":
        return "membership", parts[1] if len(parts) > 1 else name
    return parts[0], name


def map_roles(claimed: Iterable[str], *, cap: str = "admin") -> str:
    """Our role for the LTI roles ``claimed``: the highest one they map to, at most ``cap``."""
    best = 0
    for role in claimed:
        mapped = MAPPING.get(parse(role), "learner")
        best = max(best, ORDER.index(mapped))
    return ORDER[min(best, ORDER.index(cap))]


def may_choose_content(claimed: Iterable[str]) -> bool:
    """True when one of the ``claimed`` roles may pick a module for the course."""
    return any(parse(role) in CHOOSERS for role in claimed)

"""Why a login initiation or a launch is refused: a reason code, a status, plain words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: reason -> (HTTP status, what the person is told).
REASONS = {
    "malformed": (
        400,
        _l("The launch request from your learning platform is incomplete or malformed."),
    ),
    "state": (
        400,
        _l(
            "The launch did not come back to the browser that started it (its state is "
            "missing or does not match). Start again from your learning platform; if this "
            "keeps happening, allow cookies for this site."
        ),
    ),
    "target": (400, _l("The launch asks for an address that is not part of this service.")),
    "unsupported_message": (400, _l("This kind of LTI launch is not supported here.")),
    "bad_signature": (
        401,
        _l("The launch could not be verified: its signature does not match the platform's keys."),
    ),
    "unknown_key": (
        401,
        _l("The launch was signed with a key that the platform does not publish."),
    ),
    "expired": (401, _l("The launch has expired. Start again from your learning platform.")),
    "not_yet_valid": (
        401,
        _l("The launch is dated in the future: check the clocks of the platform and service."),
    ),
    "wrong_audience": (
        401,
        _l("The launch was issued for another tool (its audience is not this tool's client id)."),
    ),
    "unknown_platform": (403, _l("This learning platform is not registered here.")),
    "platform_disabled": (
        403,
        _l("Launches from this learning platform are switched off. Please ask your admin."),
    ),
    "unknown_deployment": (
        403,
        _l("This deployment of the tool is not registered for the platform."),
    ),
    "replayed": (
        403,
        _l("This launch was already used. Start again from your learning platform."),
    ),
    "unknown_nonce": (
        403,
        _l("This launch was not started here, or too long ago. Start again from your platform."),
    ),
    "not_instructor": (403, _l("Only teachers of the course can choose a module.")),
    "other_organisation": (
        403,
        _l(
            "Your account here belongs to another organisation than this learning platform. "
            "Please ask your admin."
        ),
    ),
    "account_refused": (
        403,
        _l("This account cannot be used through a learning platform. Please ask your admin."),
    ),
    "no_module": (
        404,
        _l("The link in your learning platform does not lead to one of our modules."),
    ),
    "token": (
        403,
        _l("This page has expired or was already used. Start again from your learning platform."),
    ),
    "keys_unavailable": (
        502,
        _l("The learning platform's keys could not be fetched to verify the launch. Try again."),
    ),
}


class LaunchRefused(Exception):
    """A login initiation, launch or follow-up step the rules refuse.

    ``reason`` is a key of ``REASONS``; ``detail`` is for the logs and audit trail
    (never shown); ``platform`` is the registration concerned, when it is known.
    """

    def __init__(self, reason: str, detail: str = "", platform=None):
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.platform = platform

    @property
    def status(self) -> int:
        return REASONS[self.reason][0]

    @property
    def message(self) -> str:
        return str(REASONS[self.reason][1])

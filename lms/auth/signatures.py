"""Electronic signatures: the signer re-enters their password (21 CFR 11.200, Annex 11 §14).

Every feature that signs a record (practical sign-offs and waivers, qualification
corrections) checks the password here, so a refused signature is audited the same way
everywhere.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from lms import audit
from lms.auth.models import User
from lms.errors import RuleError


class SignatureRefused(RuleError):
    """The re-entered password is not the signer's: nothing was signed. The refusal is
    audited in the current transaction, so the caller commits it."""

    def __init__(self, message=None, field: str | None = "password"):
        super().__init__(message or _l("The password is not right: nothing was signed."), field)


def signature_is_valid(
    signer: User,
    password: str | None,
    *,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> bool:
    """True when ``password`` is the active signer's; otherwise audit the refusal.

    The refusal record is written in the current transaction: the caller commits it even
    though it signs nothing, so repeated guessing leaves a trace.
    """
    if signer.active and check_password_hash(signer.password_hash, password or ""):
        return True
    audit.record(
        "signature.refused",
        actor=signer,
        target_type=target_type,
        target_id=target_id,
        details={"action": action, **(details or {})},
    )
    return False


def require_signature(signer: User, password: str | None, **what) -> None:
    """Like ``signature_is_valid``, but raise ``SignatureRefused`` when it is not."""
    if not signature_is_valid(signer, password, **what):
        raise SignatureRefused()

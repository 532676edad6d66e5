"""Electronic signatures: the signer re-enters their password (21 CFR 11.200, Annex 11 §14).

Every feature that signs a record (practical sign-offs and waivers, qualification
corrections) checks the password here, so a refused signature is audited the same way
everywhere.
"""

from __future__ import annotations

from typing import Any

from werkzeug.security import check_password_hash

from lms import audit
from lms.auth.models import User


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

"""API tokens: how a host learning platform authenticates to the JSON API.

A token belongs to one organisation and sees only that organisation's data (all of it
for the centre's). Its secret is shown once, when it is created; the database keeps a
SHA-256 of it and a short visible prefix to recognise it by.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import Organisation, User
from lms.db_types import UTCDateTime, utcnow
from lms.extensions import db

#: ``read``: GET only; ``write``: also books and cancels (write implies read).
SCOPES = ("read", "write")


class ApiToken(db.Model):
    __tablename__ = "api_token"
    __table_args__ = (sa.CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: The token's first characters (``lms_`` and a random key id): shown in lists and
    #: looked up on every request; not a secret.
    prefix: Mapped[str] = mapped_column(sa.String(24), unique=True)
    #: SHA-256 (hex) of the whole token. The token itself is never stored.
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    scope: Mapped[str] = mapped_column(sa.String(8), default="read")
    #: None when created from the command line.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Updated at most once a minute (see ``services.touch``).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The token stops working at this moment (excluded); None: it does not expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def is_usable(self, now: datetime) -> bool:
        return not self.is_revoked and not self.is_expired(now)

    def allows(self, scope: str) -> bool:
        """Whether the token grants ``scope`` (``write`` implies ``read``)."""
        return scope == "read" or self.scope == "write"

    @property
    def sees_everything(self) -> bool:
        """A token of the training centre sees every organisation's data."""
        return self.organisation.is_centre

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} {self.scope}>"

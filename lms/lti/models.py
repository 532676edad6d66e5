"""LTI 1.3: registered platforms, our signing keys, launches and the scores owed back.

A ``Platform`` is one registration of this tool in a host learning platform (Moodle,
Open edX, Canvas...) for one organisation. People launched from it are users of that
organisation, found again through their ``Identity`` (the platform's issuer and their
``sub``). A ``ResourceLink`` is a placement of one of our modules in a platform course;
``ScorePost`` rows are the grade-book scores waiting to be sent to it (an outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime, utcnow
from lms.extensions import db

TOKEN_KINDS = ("deep_link", "continue")
SCORE_STATES = ("pending", "sent", "failed")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class Platform(db.Model):
    """A host platform's registration of this tool, owned by one organisation."""

    __tablename__ = "lti_platform"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platform_issuer_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: The platform's ``iss``: an https URL that identifies it.
    issuer: Mapped[str] = mapped_column(sa.String(255))
    #: The client id the platform gave this tool (the ``aud`` of its id tokens).
    client_id: Mapped[str] = mapped_column(sa.String(255))
    #: OIDC authorisation endpoint the login initiation redirects the browser to.
    auth_login_url: Mapped[str] = mapped_column(sa.String(500))
    #: OAuth 2 token endpoint for Assignment and Grade Services.
    auth_token_url: Mapped[str] = mapped_column(sa.String(500))
    #: ``aud`` of our client-credentials JWT when it is not the token URL (some platforms).
    auth_audience: Mapped[str | None] = mapped_column(sa.String(500))
    #: The platform's public keys (JWKS) that sign its id tokens.
    keyset_url: Mapped[str] = mapped_column(sa.String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )

    @property
    def deployment_ids(self) -> list[str]:
        return [deployment.deployment_id for deployment in self.deployments]

    @property
    def frame_origins(self) -> list[str]:
        """Origins that may show our pages in a frame after a launch from this platform:
        those of its issuer and of its authorisation endpoint (where its pages live)."""
        found = (origin_of(self.issuer), origin_of(self.auth_login_url))
        return list(dict.fromkeys(origin for origin in found if origin))

    def __repr__(self) -> str:
        return f"<Platform {self.issuer} {self.client_id}>"


class Deployment(db.Model):
    """A deployment id under which the platform installed this tool."""

    __tablename__ = "lti_deployment"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platform.id"))
    deployment_id: Mapped[str] = mapped_column(sa.String(255))

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(db.Model):
    """One of this tool's RSA key pairs. The current one signs; retired ones stay
    published in our JWKS for a while, so platforms can still check what they signed."""

    __tablename__ = "lti_tool_key"
    __table_args__ = (
        sa.Index(
            "uq_lti_tool_key_current",
            "is_current",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The JWK thumbprint (RFC 7638): the ``kid`` of every JWT this key signs.
    kid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: PEM of the private key; emptied once the key is no longer published.
    private_pem: Mapped[str | None] = mapped_column(sa.Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(db.Model):
    """A platform's user (issuer and ``sub``) and the account they use here."""

    __tablename__ = "lti_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_lti_identity_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    #: The platform's ``sub``: also the ``userId`` of the scores sent back.
    subject: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The registration of the first launch.
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platform.id"), index=True)
    #: True when the account was created by a launch (its role then follows the platform).
    provisioned: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


class Nonce(db.Model):
    """A nonce sent with a login initiation: a launch may use it once, before it expires."""

    __tablename__ = "lti_nonce"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(128), unique=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platform.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResourceLink(db.Model):
    """A placement of one of our modules in a platform (a course's activity)."""

    __tablename__ = "lti_resource_link"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "link_id", name="uq_lti_resource_link_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platform.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    #: The platform's resource link id.
    link_id: Mapped[str] = mapped_column(sa.String(255))
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(255))
    context_id: Mapped[str | None] = mapped_column(sa.String(255))
    context_title: Mapped[str | None] = mapped_column(sa.String(255))
    #: AGS line item (grade-book column) of this link; None until known.
    lineitem_url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: AGS line-items container of the context, to create the line item when missing.
    lineitems_url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: AGS scopes the platform granted with the last launch.
    ags_scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship()
    module = relationship("Module")


class LinkMember(db.Model):
    """A user launched a resource link: their scores on its module go to its line item."""

    __tablename__ = "lti_link_member"
    __table_args__ = (sa.UniqueConstraint("link_id", "user_id", name="uq_lti_link_member_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_resource_link.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    identity_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_identity.id"), index=True)
    first_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    link: Mapped[ResourceLink] = relationship()
    identity: Mapped[Identity] = relationship()
    user = relationship("User")


class LaunchToken(db.Model):
    """A single-use, short-lived token that carries a validated launch to a next step:
    the deep-linking choice, or opening the module in a window of its own."""

    __tablename__ = "lti_launch_token"
    __table_args__ = (sa.CheckConstraint(f"kind IN {TOKEN_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token; the token itself is only in the browser.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platform.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: deep_link: ``{"deployment_id", "settings"}``; continue: ``{"module_id", "framed"}``.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    platform: Mapped[Platform] = relationship()


class ScorePost(db.Model):
    """A score owed to a platform's grade book: written with the graded attempt, sent by
    ``flask --app wsgi lms lti scores send`` (retried with back-off, never dropped)."""

    __tablename__ = "lti_score_post"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {SCORE_STATES!r}", name="status"),
        sa.UniqueConstraint("link_id", "attempt_id", name="uq_lti_score_post_attempt"),
        sa.Index("ix_lti_score_post_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_resource_link.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_link_member.id"), index=True)
    #: The graded attempt that made this score due.
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempt.id"), index=True)
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    #: The AGS ``timestamp``: when the attempt was submitted.
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``pending`` (due at ``next_attempt_at``), ``sent``, or ``failed`` (refused for good).
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it last entered the queue (creation, or an admin's resend): retries stop
    #: ``MAX_RETRY_AGE`` after it.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    link: Mapped[ResourceLink] = relationship()
    member: Mapped[LinkMember] = relationship()

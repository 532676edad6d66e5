"""The outbox: statements, the LRS endpoints they go to, and one delivery per pair."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import Organisation
from lms.db_types import UTCDateTime, utcnow
from lms.extensions import db

DELIVERY_STATES = ("pending", "in_flight", "delivered", "parked")
XAPI_VERSIONS = ("1.0.3", "1.0.2", "1.0.1", "1.0.0")
#: The deliveries still to send (the predicate of the queue's partial index).
QUEUED = "state IN ('pending', 'in_flight')"


class Statement(db.Model):
    """One xAPI statement, written in the transaction of the event it describes."""

    __tablename__ = "xapi_statement"
    __table_args__ = (sa.Index("ix_xapi_statement_user_occurred", "user_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The statement's xAPI id, fixed when written: re-delivery is idempotent at the LRS.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The event kind of ``lms.xapi.vocabulary.EVENTS`` (``lesson.experienced``).
    kind: Mapped[str] = mapped_column(sa.String(40))
    verb: Mapped[str] = mapped_column(sa.String(255))
    #: The object's activity id (an IRI).
    object_id: Mapped[str] = mapped_column(sa.String(1024))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The statement as sent, serialised once (compact JSON).
    body: Mapped[str] = mapped_column(sa.Text)

    organisation: Mapped[Organisation] = relationship()
    deliveries: Mapped[list[StatementDelivery]] = relationship(back_populates="statement")

    def __repr__(self) -> str:
        return f"<Statement {self.uuid} {self.kind}>"


class LrsEndpoint(db.Model):
    """An external Learning Record Store an organisation (or the centre) sends to."""

    __tablename__ = "xapi_endpoint"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "name", name="uq_xapi_endpoint_org_name"),
        sa.CheckConstraint("batch_size BETWEEN 1 AND 1000", name="batch_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: The LRS's xAPI base URL; statements go to ``{url}/statements``.
    url: Mapped[str] = mapped_column(sa.String(1024))
    #: Basic-auth key (user name).
    key: Mapped[str] = mapped_column(sa.String(255))
    #: Basic-auth secret. Write-only: never rendered, logged or audited.
    secret: Mapped[str] = mapped_column(sa.String(512))
    xapi_version: Mapped[str] = mapped_column(sa.String(8), default="1.0.3")
    enabled: Mapped[bool] = mapped_column(default=True)
    batch_size: Mapped[int] = mapped_column(default=100)
    #: Why delivery stopped (the LRS refused the credentials); None while running.
    paused_reason: Mapped[str | None] = mapped_column(sa.Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: No request to this LRS before this time (Retry-After, back-off after failures).
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Transient failures in a row, for the endpoint's back-off.
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When admins were last e-mailed about this endpoint's health.
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()

    @property
    def statements_url(self) -> str:
        return self.url.rstrip("/") + "/statements"

    @property
    def about_url(self) -> str:
        return self.url.rstrip("/") + "/about"

    def __repr__(self) -> str:
        return f"<LrsEndpoint {self.id} {self.name}>"


class StatementDelivery(db.Model):
    """The delivery of one statement to one endpoint, with its own state."""

    __tablename__ = "xapi_delivery"
    __table_args__ = (
        sa.UniqueConstraint("statement_id", "endpoint_id", name="uq_xapi_delivery_statement"),
        sa.CheckConstraint(
            "state IN ({})".format(", ".join(repr(s) for s in DELIVERY_STATES)), name="state"
        ),
        #: The queue: undelivered deliveries in order, small however many were delivered.
        sa.Index(
            "ix_xapi_delivery_queue",
            "endpoint_id",
            "id",
            sqlite_where=sa.text(QUEUED),
            postgresql_where=sa.text(QUEUED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(sa.ForeignKey("xapi_statement.id"))
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("xapi_endpoint.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not sent before this time (back-off).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A worker's lease (SQLite): not due before this time, then any worker may take it
    #: over. On PostgreSQL a worker's claim is its row locks and this stays empty.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The claim that holds the delivery (unique per claim), so only its worker settles it.
    claim: Mapped[str | None] = mapped_column(sa.String(36))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: The LRS's answer to the request that delivered it.
    response: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    statement: Mapped[Statement] = relationship(back_populates="deliveries")
    endpoint: Mapped[LrsEndpoint] = relationship()

    def __repr__(self) -> str:
        return f"<StatementDelivery {self.statement_id}->{self.endpoint_id} {self.state}>"

"""The outbox's services: record in the caller's transaction, endpoints, backfill."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import xapi
from lms.db_types import utcnow
from lms.xapi import services
from lms.xapi.models import Statement, StatementDelivery
from tests.xapi.events import LESSON, MODULE


def lesson_read(learner, **extra):
    return xapi.LearningEvent(
        kind="lesson.experienced",
        learner=learner,
        activity=LESSON,
        parent=MODULE,
        occurred_at=utcnow(),
        **extra,
    )


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def endpoint_for(org, name="LRS", **kwargs):
    return services.create_endpoint(
        organisation=org,
        name=name,
        url="https://lrs.example.org/xapi/",
        key="k",
        secret="s",
        **kwargs,
    )


def test_record_stores_the_statement_and_its_deliveries_without_committing(db, make_user):
    learner = make_user("learner")
    endpoint_for(learner.organisation)
    db.session.commit()
    statement = xapi.record(
        lesson_read(learner, registration="6f1c7f3e-8a4b-4c2a-9b1e-3d5e7f9a1b2c")
    )
    assert statement.id is not None and len(statement.deliveries) == 1
    body = json.loads(statement.body)
    assert body["id"] == statement.uuid
    assert body["actor"]["account"] == {"homePage": "http://lms.test", "name": learner.public_id}
    assert body["context"]["registration"] == "6f1c7f3e-8a4b-4c2a-9b1e-3d5e7f9a1b2c"
    assert body["context"]["language"] == "en"
    db.session.rollback()  # the feature's transaction fails: no statement is left
    assert count(db, Statement) == 0 and count(db, StatementDelivery) == 0


def test_record_commits_with_the_event(db, make_user):
    learner = make_user("learner")
    xapi.record(lesson_read(learner))
    db.session.commit()
    db.session.rollback()
    assert count(db, Statement) == 1


def test_record_refuses_an_event_that_makes_no_valid_statement(db, make_user):
    learner = make_user("learner")
    with pytest.raises(xapi.StatementError):
        xapi.record(
            xapi.LearningEvent(
                kind="module.launched", learner=learner, activity=LESSON, occurred_at=utcnow()
            )
        )
    assert count(db, Statement) == 0


def test_record_many_writes_in_order_each_to_every_recipient_in_a_few_queries(
    backend, db, make_user, centre
):
    one, other = make_user("learner"), make_user("learner")
    endpoint_for(one.organisation)
    endpoint_for(centre, name="Centre LRS")
    db.session.commit()
    events = [lesson_read(one), lesson_read(other), lesson_read(one)]
    executed = []

    def listen(_conn, _cursor, statement, *_args):
        executed.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        statements = xapi.record_many(events)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    db.session.commit()
    stored = db.session.scalars(sa.select(Statement).order_by(Statement.id)).all()
    assert [s.uuid for s in stored] == [s.uuid for s in statements]
    assert [s.user_id for s in stored] == [one.id, other.id, one.id]
    # The learner's organisation's endpoint and the centre's; the other organisation has none.
    assert [len(s.deliveries) for s in stored] == [2, 1, 2]
    # Recipients read once per organisation; the statements, then their deliveries in one
    # INSERT (the statements too on PostgreSQL; SQLite, in process, returns their ids
    # one row at a time).
    assert sum("FROM xapi_endpoint" in sql for sql in executed) == 2
    tables = [sql.split()[2] for sql in executed if sql.startswith("INSERT")]
    statements_written = 1 if backend == "postgresql" else 3
    assert tables == ["xapi_statement"] * statements_written + ["xapi_delivery"]


def test_record_many_writes_nothing_when_one_event_is_invalid(db, make_user):
    learner = make_user("learner")
    invalid = xapi.LearningEvent(
        kind="module.launched", learner=learner, activity=LESSON, occurred_at=utcnow()
    )
    with pytest.raises(xapi.StatementError):
        xapi.record_many([lesson_read(learner), invalid])
    db.session.commit()
    assert count(db, Statement) == 0


def test_record_uses_the_language_of_the_request(app, db, make_user):
    learner = make_user("learner", language="fr")
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        statement = xapi.record(lesson_read(learner))
    assert json.loads(statement.body)["context"]["language"] == "fr"


def test_mbox_organisations_identify_learners_by_email(db, make_org, make_user):
    learner = make_user("learner", make_org(actor_mode="mbox"))
    body = json.loads(xapi.record(lesson_read(learner)).body)
    assert body["actor"] == {"objectType": "Agent", "mbox": f"mailto:{learner.email}"}


def test_backfill_queues_what_an_endpoint_lacks_once(db, make_org, make_user, centre):
    acme, other = make_org(), make_org()
    ours, theirs = make_user("learner", acme), make_user("learner", other)
    old = xapi.record(lesson_read(ours))
    xapi.record(lesson_read(theirs))
    db.session.flush()
    old.created_at = utcnow() - timedelta(days=10)
    late = endpoint_for(acme, "Late")
    recent = xapi.record(lesson_read(ours))
    assert [d.endpoint_id for d in recent.deliveries] == [late.id]
    assert services.backfill(late) == 1  # the old statement of acme, not other's
    assert services.backfill(late) == 0
    centre_lrs = endpoint_for(centre, "Centre")
    assert services.backfill(centre_lrs, since=utcnow() - timedelta(days=1)) == 2
    assert services.backfill(centre_lrs) == 1


def test_resend_requeues_only_parked_deliveries(db, make_user):
    learner = make_user("learner")
    endpoint = endpoint_for(learner.organisation)
    statement = xapi.record(lesson_read(learner))
    delivery = statement.deliveries[0]
    assert services.resend(delivery, by=None) is False
    delivery.state, delivery.attempts = "parked", 5
    db.session.flush()
    assert services.resend(delivery, by=None) is True
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    delivery.state = "parked"
    db.session.flush()
    assert services.resend_all(endpoint, by=None) == 1


@pytest.mark.parametrize(
    "url",
    [
        "lrs.example.org",
        "ftp://lrs.example.org",
        "https://key:secret@lrs.example.org",
        "https://x/#a",
    ],
)
def test_endpoint_addresses_must_be_plain_http_urls(url):
    with pytest.raises(services.EndpointError):
        services.check_url(url)


def test_credentials_are_masked():
    assert services.mask("abcdefghij") == "abc…"
    assert services.mask("short") == "…"


def test_disabled_endpoints_receive_no_new_statements(db, make_user):
    learner = make_user("learner")
    endpoint = endpoint_for(learner.organisation)
    services.set_enabled(endpoint, False, by=None)
    assert xapi.record(lesson_read(learner)).deliveries == []

"""xAPI delivery health on the dashboard: counts by state per LRS, the last error in plain
words, statements per day, for the organisations the reader may see; never a secret."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lms.dashboard.delivery import plain_error
from lms.extensions import db as _db
from lms.xapi.health import DeliveryCounts, delivery_counts
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from tests.dashboard.conftest import QueryCounter

SECRETS = ("acme-key-XYZ", "s3cret-acme-value", "other-key-QRS", "s3cret-other-value")


def add_statements(db, learner, endpoint, created, states=None, commit=True) -> None:
    """One statement of ``learner`` per moment of ``created``, each delivered to
    ``endpoint`` in the matching state of ``states`` (``(state, last_error)``)."""
    states = states or [("delivered", None)] * len(created)
    for moment, (state, error) in zip(created, states, strict=True):
        statement = Statement(
            uuid=str(uuid.uuid4()),
            organisation_id=learner.organisation_id,
            user_id=learner.id,
            kind="lesson.experienced",
            verb="http://adlnet.gov/expapi/verbs/experienced",
            object_id="http://lms.test/xapi/activities/lesson",
            occurred_at=moment,
            created_at=moment,
            body="{}",
        )
        db.session.add(statement)
        db.session.flush()
        if endpoint is not None:
            db.session.add(
                StatementDelivery(
                    statement_id=statement.id,
                    endpoint_id=endpoint.id,
                    state=state,
                    last_error=error,
                    created_at=moment,
                    next_attempt_at=moment,
                )
            )
    if commit:
        db.session.commit()


def endpoint(db, org, name, key, secret, **fields) -> LrsEndpoint:
    found = LrsEndpoint(
        organisation_id=org.id,
        name=name,
        url=f"https://lrs.{org.slug}.example.org/xapi/",
        key=key,
        secret=secret,
        **fields,
    )
    db.session.add(found)
    db.session.commit()
    return found


@pytest.fixture()
def outbox(db, world, clock):
    """At noon: Acme's LRS holds 4 delivered statements, 2 waiting for their first try,
    1 retrying after an error (the oldest waiting, for 90 minutes) and 1 parked; it failed
    with a 503 ten minutes ago. Acme's learner wrote 3 statements today, 3 three days
    ago, 2 twenty days ago. Other's LRS and learner: 4 statements today, delivered."""
    clock.current = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
    now = clock.now()
    learner, other = world["learner"], world["other_learner"]
    acme_lrs = endpoint(
        db,
        learner.organisation,
        "Acme LRS",
        "acme-key-XYZ",
        "s3cret-acme-value",
        last_success_at=now - timedelta(hours=1),
        last_error="HTTP 503: Service Unavailable",
        last_error_at=now - timedelta(minutes=10),
    )
    other_lrs = endpoint(db, other.organisation, "Other LRS", "other-key-QRS", "s3cret-other-value")
    ago = [timedelta(minutes=90), timedelta(minutes=5), timedelta(minutes=1)]
    ago += [timedelta(days=3)] * 3 + [timedelta(days=20)] * 2
    states = [("pending", "HTTP 503: Service Unavailable"), ("pending", None), ("pending", None)]
    states += [("delivered", None)] * 3 + [("parked", "HTTP 400: bad"), ("delivered", None)]
    add_statements(db, learner, acme_lrs, [now - delta for delta in ago], states)
    add_statements(db, other, other_lrs, [now - timedelta(minutes=1)] * 4)
    return {"acme": acme_lrs, "other": other_lrs, **world}


def cells(html: str, name: str) -> list[str]:
    row = re.search(rf'<th scope="row">(?:<a [^>]*>)?{name}(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def chart_counts(html: str) -> list[int]:
    figure = re.search(r'id="statements-per-day">(.*?)</figure>', html, re.S).group(1)
    return [int(n) for n in re.findall(r'</th>\s*<td class="num">(\d+)</td>', figure)]


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_counts_by_state_oldest_pending_and_last_error_in_plain_words(outbox, as_role):
    html = as_role("trainer").get("/dashboard/delivery").get_data(as_text=True)
    state, delivered, first_try, retrying, parked, oldest, last_ok, error = cells(html, "Acme LRS")
    assert (state, delivered, first_try, retrying, parked) == ("delivering", "4", "2", "1", "1")
    assert oldest == "90 min"
    assert last_ok != "never"
    assert error.startswith("The LRS had an internal error (HTTP 503).")
    assert "delivery has worked since" not in error
    assert "lrs.acme-pharma.example.org" in html


def test_the_table_exports_to_csv_without_any_secret(outbox, as_role):
    client = as_role("trainer")
    table = rows(client.get("/dashboard/delivery.csv"))
    assert table[0][:9] == [
        "Organisation",
        "LRS",
        "Host",
        "State",
        "Delivered",
        "Waiting, first try",
        "Retrying",
        "Parked",
        "Oldest pending (minutes)",
    ]
    assert table[1][:9] == [
        "Acme Pharma",
        "Acme LRS",
        "lrs.acme-pharma.example.org",
        "delivering",
        "4",
        "2",
        "1",
        "1",
        "90",
    ]
    assert table[1][10:12] == [
        "The LRS had an internal error (HTTP 503).",
        "HTTP 503: Service Unavailable",
    ]
    assert len(table) == 2
    page = client.get("/dashboard/delivery").get_data(as_text=True)
    for text in (client.get("/dashboard/delivery.csv").get_data(as_text=True), page):
        assert not any(secret in text for secret in SECRETS)


def test_statements_per_day_over_14_or_30_days_count_only_visible_learners(outbox, as_role):
    client = as_role("trainer")
    fortnight = chart_counts(client.get("/dashboard/delivery").get_data(as_text=True))
    assert len(fortnight) == 14
    assert fortnight[-1] == 3 and fortnight[-4] == 3 and sum(fortnight) == 6
    month = chart_counts(client.get("/dashboard/delivery?days=30").get_data(as_text=True))
    assert len(month) == 30 and month[-21] == 2 and sum(month) == 8
    assert len(chart_counts(client.get("/dashboard/delivery?days=7").get_data(as_text=True))) == 14


@pytest.mark.parametrize("role", ["other_admin", "other_trainer"])
def test_another_organisation_never_sees_acme_delivery_even_by_crafted_filter(
    outbox, world, as_role, make_user, role
):
    if role == "other_trainer":
        world["other_trainer"] = make_user("trainer", outbox["other_learner"].organisation)
    client = as_role(role)
    acme = outbox["learner"].organisation
    for query in ("", f"?organisation={acme.id}"):
        html = client.get(f"/dashboard/delivery{query}").get_data(as_text=True)
        assert "Acme LRS" not in html and "Other LRS" in html
        assert chart_counts(html)[-1] == 4
        table = rows(client.get(f"/dashboard/delivery.csv{query}"))
        assert [row[1] for row in table[1:]] == ["Other LRS"]


def test_the_centre_admin_sees_every_lrs_or_one_organisation(outbox, as_role):
    client = as_role("centre_admin")
    html = client.get("/dashboard/delivery").get_data(as_text=True)
    assert "Acme LRS" in html and "Other LRS" in html
    assert chart_counts(html)[-1] == 3 + 4
    other = outbox["other_learner"].organisation
    table = rows(client.get(f"/dashboard/delivery.csv?organisation={other.id}"))
    assert [row[1] for row in table[1:]] == ["Other LRS"]


def test_trainers_only_look_without_a_link_to_manage_the_lrs(outbox, as_role):
    link = f'href="/xapi/endpoints/{outbox["acme"].id}"'
    trainer = as_role("trainer").get("/dashboard/delivery").get_data(as_text=True)
    assert "Acme LRS" in trainer
    assert link not in trainer and 'href="/xapi/endpoints/"' not in trainer


@pytest.mark.parametrize("role", ["admin", "centre_admin"])
def test_admins_of_the_organisation_or_centre_may_follow_the_link(outbox, as_role, role):
    html = as_role(role).get("/dashboard/delivery").get_data(as_text=True)
    assert f'href="/xapi/endpoints/{outbox["acme"].id}"' in html
    assert 'href="/xapi/endpoints/"' in html


def test_a_paused_lrs_says_why_in_plain_words(db, outbox, as_role):
    acme = outbox["acme"]
    acme.paused_reason = acme.last_error = (
        "The LRS refused the key and secret (HTTP 401: Unauthorized)."
    )
    db.session.commit()
    html = as_role("trainer").get("/dashboard/delivery").get_data(as_text=True)
    row = cells(html, "Acme LRS")
    assert row[0].startswith("paused")
    assert "Delivery is paused until an administrator resumes it." in row[0]
    assert row[-1].startswith("The LRS refused the key and secret: an administrator must correct")


def test_an_error_followed_by_a_success_is_marked_as_resolved(db, outbox, as_role, clock):
    outbox["acme"].last_success_at = clock.now()
    db.session.commit()
    html = as_role("trainer").get("/dashboard/delivery").get_data(as_text=True)
    assert "delivery has worked since" in cells(html, "Acme LRS")[-1]


def test_without_an_lrs_the_page_says_statements_are_kept(db, world, as_role):
    html = as_role("trainer").get("/dashboard/delivery").get_data(as_text=True)
    assert "No LRS yet: statements are kept until you add one." in html
    assert rows(as_role("trainer").get("/dashboard/delivery.csv"))[1:] == []


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (None, None),
        ("HTTP 503: Service Unavailable", "The LRS had an internal error (HTTP 503)."),
        ("HTTP 429: slow down", "The LRS asked to slow down: delivery resumes when it allows."),
        ("HTTP 408", "The LRS did not answer in time."),
        ("no answer: read time-out", "The LRS did not answer in time."),
        ("HTTP 400: invalid actor", "The LRS refused a statement (HTTP 400)."),
        ("connection failed: ConnectionRefusedError", "The LRS could not be reached"),
        ("TLS error: SSLCertVerificationError", "The certificate of the LRS could not be verified"),
        ("The LRS has no statements resource at this address (HTTP 404).", "looks wrong"),
        ("Gave up after retrying: HTTP 502: Bad Gateway", "internal error (HTTP 502)"),
        ("something new", "The LRS answered with an error."),
    ],
)
def test_errors_are_put_in_plain_words(app, error, words):
    with app.test_request_context("/"):
        found = plain_error(error)
    assert found == words if words is None else words in found


PATHS = ["/dashboard/delivery", "/dashboard/delivery?days=30", "/dashboard/delivery.csv"]


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("anonymous", "login"), ("learner", 403), ("trainer", 200), ("admin", 200)]
    + [("centre_admin", 200), ("other_admin", 200)],
)
def test_who_may_open_the_delivery_health(outbox, as_role, role, outcome):
    client = as_role(role)
    for path in PATHS:
        response = client.get(path)
        if outcome == "login":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == outcome, path


def test_the_delivery_health_is_in_french(outbox, as_role):
    client = as_role("trainer")
    html = client.get("/dashboard/delivery", headers={"Accept-Language": "fr"})
    text = html.get_data(as_text=True)
    assert "<h1>Santé de la livraison xAPI</h1>" in text
    assert "Le LRS a eu une erreur interne (HTTP 503)." in text
    table = rows(client.get("/dashboard/delivery.csv", headers={"Accept-Language": "fr"}))
    assert table[0][5:7] == ["En attente, premier essai", "Nouvel essai"]


@pytest.mark.parametrize("path", PATHS)
def test_query_count_does_not_grow_with_learners(
    db, make_org, make_user, many_learners, login_as, make_client, clock, path
):
    counts = []
    for size in (10, 500):
        org = make_org()
        trainer = make_user("trainer", org)
        lrs = endpoint(db, org, "LRS", "k", "s")
        for learner in many_learners(org, size):
            yesterday = [clock.now() - timedelta(days=1)]
            add_statements(db, learner, lrs, yesterday, [("pending", "x")], commit=False)
        db.session.commit()
        client = login_as(trainer, on=make_client())
        client.get(path)
        with QueryCounter(_db.engine) as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_delivery_counts_split_waiting_into_first_try_and_retrying(db, world, clock):
    learner, now = world["learner"], clock.now()
    lrs = endpoint(db, learner.organisation, "Counted", "k", "s")
    idle = endpoint(db, learner.organisation, "Idle", "k2", "s2")
    states = [("in_flight", None), ("in_flight", "HTTP 502"), ("pending", None)]
    states += [("delivered", None), ("parked", "HTTP 400: bad")]
    moments = [now - timedelta(minutes=n) for n in (3, 30, 1, 60, 90)]
    add_statements(db, learner, lrs, moments, states)
    counts = delivery_counts([lrs.id, idle.id])
    found = counts[lrs.id]
    assert (found.delivered, found.waiting, found.retrying, found.parked) == (1, 3, 1, 1)
    assert found.first_try == 2
    assert found.oldest_waiting_age(now) == timedelta(minutes=30)
    assert counts[idle.id] == DeliveryCounts()
    assert counts[idle.id].oldest_waiting_age(now) is None

"""Every xAPI route for every role, and what admins, trainers and learners see."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms import xapi
from lms.audit.models import AuditRecord
from lms.db_types import utcnow
from lms.xapi import services
from lms.xapi.models import LrsEndpoint, StatementDelivery
from tests.conftest import ROLES, as_role, csrf_token, post_form
from tests.conftest import expect_outcome as expect
from tests.xapi.events import ASSESSMENT, LESSON, MODULE
from tests.xapi.lrs import KEY, SECRET


@pytest.fixture()
def world(db, two_organisations, lrs):
    acme, people = two_organisations["acme"], two_organisations["people"]
    endpoint = services.create_endpoint(
        organisation=acme, name="Acme LRS", url=lrs.url, key=KEY, secret=SECRET
    )
    statement = xapi.record(
        xapi.LearningEvent(
            kind="lesson.experienced",
            learner=people["learner"],
            activity=LESSON,
            parent=MODULE,
            occurred_at=utcnow(),
        )
    )
    delivery = statement.deliveries[0]
    delivery.state, delivery.last_error, delivery.parked_at = "parked", "HTTP 400: bad", utcnow()
    db.session.commit()
    return {
        "acme": acme,
        "people": people,
        "endpoint": endpoint,
        "statement": statement,
        "delivery": delivery,
    }


def fill(path: str, world) -> str:
    return path.format(
        endpoint=world["endpoint"].id,
        statement=world["statement"].uuid,
        delivery=world["delivery"].id,
        learner=world["people"]["learner"].public_id,
    )


#        path,                              anonymous, learner, trainer, admin, other_admin, centre
GET_MATRIX = [
    ("/xapi/endpoints/", ["login", 403, 403, 200, 200, 200]),
    ("/xapi/endpoints/new", ["login", 403, 403, 200, 200, 200]),
    ("/xapi/endpoints/{endpoint}", ["login", 403, 403, 200, 404, 200]),
    ("/xapi/endpoints/999999", ["login", 403, 403, 404, 404, 404]),
    ("/xapi/statements/{statement}", ["login", 200, 200, 200, 404, 200]),
    ("/xapi/activity", ["login", 200, 200, 200, 200, 200]),
    ("/xapi/activity/{learner}", ["login", 403, 200, 200, 404, 200]),
    ("/xapi/activity/nobody", ["login", 403, 404, 404, 404, 404]),
]
POST_MATRIX = [
    "/xapi/endpoints/{endpoint}/test",
    "/xapi/endpoints/{endpoint}/resume",
    "/xapi/endpoints/{endpoint}/resend",
    "/xapi/endpoints/{endpoint}/backfill",
    "/xapi/deliveries/{delivery}/resend",
]
POST_OUTCOMES = ["login", 403, 403, 302, 404, 302]


@pytest.mark.parametrize(("path", "outcomes"), GET_MATRIX)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_for_every_role(client, world, path, outcomes, role_index):
    as_role(client, world, ROLES[role_index])
    expect(client.get(fill(path, world)), outcomes[role_index])


@pytest.mark.parametrize("path", POST_MATRIX)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_for_every_role(client, world, path, role_index):
    as_role(client, world, ROLES[role_index])
    token = csrf_token(client, "/")
    response = client.post(fill(path, world), data={"csrf_token": token})
    expect(response, POST_OUTCOMES[role_index])


def test_post_without_csrf_token_is_refused(client, world):
    as_role(client, world, "admin")
    assert client.post(fill("/xapi/endpoints/{endpoint}/resend", world)).status_code == 400


def endpoint_data(**changes):
    data = {
        "organisation": "acme-pharma",
        "name": "Learning Locker",
        "url": "https://lrs.example.org/xapi/",
        "key": "the-key-123",
        "secret": "the-secret-value-456",
        "xapi_version": "1.0.3",
        "batch_size": "100",
        "enabled": "y",
    }
    return {**data, **changes}


def test_admin_registers_an_endpoint_and_never_sees_the_secret_again(client, world, db):
    as_role(client, world, "admin")
    response = post_form(client, "/xapi/endpoints/new", endpoint_data())
    assert response.status_code == 302
    endpoint = db.session.scalar(
        sa.select(LrsEndpoint).where(LrsEndpoint.name == "Learning Locker")
    )
    assert (endpoint.secret, endpoint.batch_size) == ("the-secret-value-456", 100)
    for page in (response.headers["Location"], "/xapi/endpoints/"):
        html = client.get(page).get_data(as_text=True)
        assert "the-secret-value-456" not in html
        assert "the-key-123" not in html
    details = " ".join(db.session.scalars(sa.select(AuditRecord.details)))
    assert "the-secret-value-456" not in details and "the-key-123" not in details
    assert "xapi.endpoint.created" in db.session.scalars(sa.select(AuditRecord.action)).all()


def test_an_organisation_admin_cannot_register_for_another_organisation(client, world):
    as_role(client, world, "admin")
    response = post_form(
        client, "/xapi/endpoints/new", endpoint_data(organisation="other-chemicals")
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_the_centre_admin_registers_for_any_organisation(client, world, db):
    as_role(client, world, "centre_admin")
    response = post_form(
        client, "/xapi/endpoints/new", endpoint_data(organisation="other-chemicals")
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "ftp://lrs.example.org"}, "starting with https://"),
        ({"url": "https://user:pw@lrs.example.org/xapi"}, "not in the address"),
        ({"name": "Acme LRS"}, "endpoint of that name already"),
        ({"batch_size": "0"}, "Number must be between 1 and 1000"),
    ],
)
def test_invalid_endpoints_are_refused_beside_the_field(client, world, changes, message):
    as_role(client, world, "admin")
    response = post_form(client, "/xapi/endpoints/new", endpoint_data(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_saving_without_a_secret_keeps_it_and_new_credentials_resume_delivery(client, world, db):
    endpoint = world["endpoint"]
    endpoint.paused_reason = "The LRS refused the key and secret (HTTP 401)."
    db.session.commit()
    as_role(client, world, "admin")
    path = f"/xapi/endpoints/{endpoint.id}"
    page = client.get(path).get_data(as_text=True)
    assert "Delivery is paused: The LRS refused the key and secret" in page
    assert SECRET not in page and KEY not in page
    data = endpoint_data(name="Acme LRS", url=endpoint.url, key="", secret="")
    assert post_form(client, path, data).status_code == 302
    db.session.refresh(endpoint)
    assert (endpoint.key, endpoint.secret) == (KEY, SECRET)
    assert endpoint.paused_reason is not None
    assert post_form(client, path, {**data, "secret": "a-new-secret"}).status_code == 302
    db.session.refresh(endpoint)
    assert (endpoint.secret, endpoint.paused_reason) == ("a-new-secret", None)


def test_test_connection_reports_what_the_lrs_said(client, world, db):
    as_role(client, world, "admin")
    path = f"/xapi/endpoints/{world['endpoint'].id}"
    response = post_form(client, path + "/test", {}, form_path=path)
    assert "supports xAPI 1.0.3" in client.get(response.headers["Location"]).get_data(as_text=True)
    world["endpoint"].url = "http://127.0.0.1:9/xapi/"
    db.session.commit()
    post_form(client, path + "/test", {}, form_path=path)
    assert "connection failed" in client.get(path).get_data(as_text=True)


def test_parked_statements_are_listed_with_their_reason_and_can_be_resent(client, world, db):
    as_role(client, world, "admin")
    path = f"/xapi/endpoints/{world['endpoint'].id}"
    page = client.get(path).get_data(as_text=True)
    assert world["statement"].uuid in page and "HTTP 400: bad" in page
    post_form(client, f"/xapi/deliveries/{world['delivery'].id}/resend", {}, form_path=path)
    db.session.refresh(world["delivery"])
    assert world["delivery"].state == "pending"
    world["delivery"].state = "parked"
    db.session.commit()
    post_form(client, path + "/resend", {}, form_path=path)
    assert db.session.scalar(sa.select(StatementDelivery.state)) == "pending"


def test_statement_json_is_viewable(client, world):
    as_role(client, world, "admin")
    html = client.get(f"/xapi/statements/{world['statement'].uuid}").get_data(as_text=True)
    assert "http://adlnet.gov/expapi/verbs/experienced" in html
    assert "&#34;registration&#34;" not in html  # no registration was given


def test_a_learner_reads_their_activity_in_plain_words(client, world, db):
    learner = world["people"]["learner"]
    xapi.record(
        xapi.LearningEvent(
            kind="attempt.passed",
            learner=learner,
            activity=ASSESSMENT,
            occurred_at=utcnow(),
            result=xapi.Result(score_raw=17, score_min=0, score_max=20, success=True),
        )
    )
    db.session.commit()
    as_role(client, world, "learner")
    html = client.get("/xapi/activity").get_data(as_text=True)
    assert "My activity" in html
    assert "Read the lesson “Why GMP”" in html
    assert "Passed the quiz “GMP fundamentals quiz”" in html and "score 85 %" in html


def test_a_trainer_reads_the_activity_of_a_learner_of_their_organisation(client, world):
    as_role(client, world, "trainer")
    learner = world["people"]["learner"]
    html = client.get(f"/xapi/activity/{learner.public_id}").get_data(as_text=True)
    assert f"Activity of {learner.display_name}" in html and "Read the lesson" in html


def test_admins_are_warned_when_statements_are_parked(client, world, app):
    as_role(client, world, "admin")
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Statement delivery to an LRS needs attention" in html
    html = client.get("/xapi/endpoints/").get_data(as_text=True)
    assert "1 statement is parked." in html


def test_learners_see_no_delivery_warning(client, world):
    as_role(client, world, "learner")
    assert "needs attention" not in client.get("/").get_data(as_text=True)

"""Reading through the API: modules, learners, progress, eligibility, statements — each
token within its own organisation (the centre's sees all)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from lms.db_types import utcnow
from tests.api.conftest import GATED_TYPE, error_of


@pytest.fixture()
def acme_token(people, make_token):
    return make_token(people["acme"])[1]


def test_modules_list_and_detail(api, loaded, acme_token):
    response = api.get("/modules", token=acme_token)
    assert response.status_code == 200
    body = response.get_json()
    assert [module["id"] for module in body["data"]] == ["alpha", "beta"]
    assert body["next_cursor"] is None and body["links"]["next"] is None
    alpha = api.get("/modules/alpha", token=acme_token).get_json()
    assert alpha["title"] == {"en": "Alpha basics", "fr": "Les bases alpha"}
    assert alpha["validity_months"] == 12
    assert alpha["pass_mark"] == 0.8
    assert alpha["url"].endswith("/modules/alpha")
    assert api.get("/modules/beta", token=acme_token).get_json()["prerequisites"] == ["alpha"]


@pytest.mark.parametrize("module_id", ["missing", "ALPHA", "alpha%00", "a" * 80])
def test_an_unknown_module_is_404(api, loaded, acme_token, module_id):
    response = api.get(f"/modules/{module_id}", token=acme_token)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_practical_types_list_their_rules(api, practical_types, acme_token):
    body = api.get("/practical-types", token=acme_token).get_json()
    gated = next(item for item in body["data"] if item["id"] == GATED_TYPE)
    assert gated["prerequisites"] == {"qualification_valid": {"module": "alpha", "min_score": 0.8}}


def test_a_token_lists_only_its_organisations_learners(api, people, make_token):
    _token, plain = make_token(people["acme"])
    ids = {item["id"] for item in api.get("/learners", token=plain).get_json()["data"]}
    assert ids == {people["learner"].public_id, people["second_learner"].public_id}


def test_a_centre_token_lists_every_organisations_learners(api, people, make_token):
    _token, plain = make_token(people["centre"])
    ids = {item["id"] for item in api.get("/learners", token=plain).get_json()["data"]}
    assert {people["learner"].public_id, people["other_learner"].public_id} <= ids
    assert people["trainer"].public_id not in ids


def test_learners_are_found_by_email_in_any_case(api, people, acme_token):
    email = quote(people["learner"].email.upper())
    data = api.get(f"/learners?email={email}", token=acme_token).get_json()["data"]
    assert [item["id"] for item in data] == [people["learner"].public_id]
    assert data[0]["organisation"] == people["acme"].slug
    other = quote(people["other_learner"].email)
    assert api.get(f"/learners?email={other}", token=acme_token).get_json()["data"] == []


def test_another_organisations_learner_is_404_everywhere(
    api, people, practical_types, acme_token, add_statement
):
    foreign = people["other_learner"].public_id
    add_statement(people["other_learner"])
    for path in (
        f"/learners/{foreign}",
        f"/learners/{foreign}/progress",
        f"/learners/{foreign}/eligibility/{GATED_TYPE}",
        f"/learners/{foreign}/statements",
    ):
        response = api.get(path, token=acme_token)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


def test_staff_are_not_learners_of_the_api(api, people, acme_token):
    response = api.get(f"/learners/{people['trainer'].public_id}", token=acme_token)
    assert response.status_code == 404


def test_progress_shows_status_best_score_and_qualification_expiry(
    api, people, loaded, qualify, record_attempt, acme_token, clock
):
    learner = people["learner"]
    record_attempt(learner, "alpha", 0.5, passed=False, at=clock.now() - timedelta(days=3))
    qualify(learner, "alpha", score=0.9, valid_days=20)
    response = api.get(f"/learners/{learner.public_id}/progress", token=acme_token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["learner"]["id"] == learner.public_id
    rows = {row["module_id"]: row for row in body["modules"]}
    alpha = rows["alpha"]
    assert alpha["status"] == "passed"
    assert alpha["best_score"] == 0.9
    assert alpha["expires_soon"] is True
    assert alpha["qualification"]["valid"] is True
    until = alpha["qualification"]["valid_until"]
    assert until.startswith((clock.now() + timedelta(days=20)).date().isoformat())
    assert rows["beta"]["status"] == "not_started"
    assert rows["beta"]["qualification"] is None
    assert [q["module_id"] for q in body["qualifications"]] == ["alpha"]


def test_progress_shows_an_expired_qualification(api, people, loaded, qualify, acme_token, clock):
    learner = people["learner"]
    clock.advance(days=-400)
    qualify(learner, "alpha", score=0.95, valid_days=365)
    clock.advance(days=400)
    body = api.get(f"/learners/{learner.public_id}/progress", token=acme_token).get_json()
    alpha = next(row for row in body["modules"] if row["module_id"] == "alpha")
    assert alpha["status"] == "expired"
    assert alpha["qualification"]["valid"] is False


def test_eligibility_names_what_is_missing(api, people, loaded, practical_types, acme_token):
    learner = people["learner"]
    response = api.get(f"/learners/{learner.public_id}/eligibility/{GATED_TYPE}", token=acme_token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["eligible"] is False
    (missing,) = body["missing"]
    assert missing["key"] == "qualification_valid:alpha"
    assert missing["reason"] == "not_passed"
    assert "Alpha basics" in missing["text"]
    assert missing["url"].endswith("/modules/alpha")


def test_eligibility_in_french(api, people, loaded, practical_types, acme_token):
    path = f"/learners/{people['learner'].public_id}/eligibility/{GATED_TYPE}"
    body = api.get(path, token=acme_token, headers={"Accept-Language": "fr"}).get_json()
    assert "Les bases alpha" in body["missing"][0]["text"]


def test_a_low_score_is_reported_with_the_best_score(
    api, people, loaded, practical_types, qualify, acme_token
):
    learner = people["learner"]
    qualify(learner, "alpha", score=0.7)
    body = api.get(
        f"/learners/{learner.public_id}/eligibility/{GATED_TYPE}", token=acme_token
    ).get_json()
    assert body["eligible"] is False
    assert body["missing"][0]["reason"] == "score_too_low"
    assert body["missing"][0]["detail"] == {"best_score": 0.7}


def test_eligibility_is_evaluated_at_the_moment_asked(
    api, people, loaded, practical_types, qualify, acme_token
):
    learner = people["learner"]
    qualify(learner, "alpha", score=0.9, valid_days=30)
    path = f"/learners/{learner.public_id}/eligibility/{GATED_TYPE}"
    assert api.get(path, token=acme_token).get_json()["eligible"] is True
    later = quote((utcnow() + timedelta(days=60)).isoformat())
    body = api.get(f"{path}?at={later}", token=acme_token).get_json()
    assert body["eligible"] is False
    assert body["missing"][0]["reason"] == "expires_before"


@pytest.mark.parametrize(
    "at", ["tomorrow", "2030-01-01T09:00:00", "0001-01-01T00:00:00Z", "9" * 50]
)
def test_a_malformed_moment_is_400(api, people, practical_types, acme_token, at):
    path = f"/learners/{people['learner'].public_id}/eligibility/{GATED_TYPE}?at={quote(at)}"
    response = api.get(path, token=acme_token)
    assert response.status_code == 400
    assert error_of(response)["details"] == {"parameter": "at"}


def test_an_unknown_practical_type_is_404(api, people, practical_types, acme_token):
    path = f"/learners/{people['learner'].public_id}/eligibility/no-such-type"
    assert api.get(path, token=acme_token).status_code == 404


def test_statements_are_the_stored_xapi_json_newest_first(api, people, acme_token, add_statement):
    learner = people["learner"]
    older = add_statement(learner, "launched", minutes_ago=30)
    newer = add_statement(learner, "experienced", minutes_ago=5)
    add_statement(people["second_learner"], "completed")
    body = api.get(f"/learners/{learner.public_id}/statements", token=acme_token).get_json()
    assert [item["id"] for item in body["data"]] == [newer.uuid, older.uuid]
    first = body["data"][0]
    assert first["verb"] == "http://adlnet.gov/expapi/verbs/experienced"
    assert first["statement"]["actor"]["account"]["name"] == learner.public_id
    since = quote((utcnow() - timedelta(minutes=10)).isoformat())
    recent = api.get(
        f"/learners/{learner.public_id}/statements?since={since}", token=acme_token
    ).get_json()
    assert [item["id"] for item in recent["data"]] == [newer.uuid]


def test_a_centre_token_reads_any_learners_statements(api, people, make_token, add_statement):
    statement = add_statement(people["other_learner"])
    _token, plain = make_token(people["centre"])
    body = api.get(f"/learners/{people['other_learner'].public_id}/statements", token=plain)
    assert [item["id"] for item in body.get_json()["data"]] == [statement.uuid]

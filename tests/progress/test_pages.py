"""My training, certificates, public verification and corrections, for every role."""

from __future__ import annotations

import pytest

from lms.catalog.models import Module
from lms.progress import qualifications
from tests.conftest import DEFAULT_PASSWORD, csrf_token
from tests.conftest import expect_outcome as expect
from tests.progress.test_qualifications import take

ROLES = ["anonymous", "learner", "trainer", "admin", "other_learner", "other_admin", "centre_admin"]


@pytest.fixture()
def qualification(db, loaded, world, clock):
    take(db, world["learner"], db.session.get(Module, "alpha"))
    return qualifications.current_qualifications(world["learner"])["alpha"]


# path, then: anon, learner, trainer, admin, other learner, other admin, centre admin
GETS = [
    ("/my-training", ["login", 200, 200, 200, 200, 200, 200]),
    ("/qualifications/{code}/certificate", ["login", 200, 200, 200, 404, 404, 200]),
    ("/qualifications/nope/certificate", ["login", 404, 404, 404, 404, 404, 404]),
    ("/verify/{code}", [200, 200, 200, 200, 200, 200, 200]),
    ("/verify/not-a-code", [404, 404, 404, 404, 404, 404, 404]),
    ("/people/{learner}/training", ["login", 403, 200, 200, 403, 404, 200]),
    ("/people/{learner}/qualifications/{code}/correct", ["login", 403, 200, 200, 403, 404, 200]),
]


@pytest.mark.parametrize("template,outcomes", GETS, ids=[g[0] for g in GETS])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(qualification, world, as_role, template, outcomes, role_index):
    client = as_role(ROLES[role_index])
    path = template.format(code=qualification.code, learner=world["learner"].public_id)
    expect(client.get(path), outcomes[role_index])


def test_my_training_shows_status_score_attempts_and_expiry(db, qualification, as_role, clock):
    client = as_role("learner")
    html = client.get("/my-training").get_data(as_text=True)
    assert "Passed" in html and "100 %" in html and "Certificate" in html
    assert 'class="expiring"' not in html
    clock.advance(days=340)
    html = client.get("/my-training").get_data(as_text=True)
    assert 'class="expiring"' in html and "Expires within 30 days" in html


def test_the_verification_page_confirms_without_logging_in(qualification, client, world):
    html = client.get(f"/verify/{qualification.code}").get_data(as_text=True)
    assert "genuine and the qualification is valid" in html
    assert world["learner"].display_name in html and "Alpha basics" in html
    assert qualification.version.label in html


def test_the_certificate_is_printable_and_links_to_verification(qualification, as_role):
    html = as_role("learner").get(f"/qualifications/{qualification.code}/certificate")
    text = html.get_data(as_text=True)
    assert f"http://lms.test/verify/{qualification.code}" in text
    assert "progress.css" in text and 'id="print-certificate"' in text


def test_a_trainer_corrects_through_the_form(db, qualification, world, as_role, client):
    trainer = as_role("trainer")
    path = f"/people/{world['learner'].public_id}/qualifications/{qualification.code}/correct"
    token = csrf_token(trainer, path)
    data = {"csrf_token": token, "valid_until": "2020-01-01", "reason": "Withdrawn: coached"}
    wrong = trainer.post(path, data={**data, "password": "nope"})
    assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
    done = trainer.post(path, data={**data, "password": DEFAULT_PASSWORD})
    assert done.status_code == 302
    html = client.get(f"/verify/{qualification.code}").get_data(as_text=True)
    assert "was corrected" in html

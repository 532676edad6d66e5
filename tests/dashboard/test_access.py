"""Who may open each dashboard page and export, and what another organisation sees."""

from __future__ import annotations

import pytest

from lms.dashboard import cohorts

LISTS = [
    "/dashboard/",
    "/dashboard/matrix.csv",
    "/dashboard/expiring?days=90",
    "/dashboard/expiring.csv?days=90",
    "/dashboard/cohorts",
]


@pytest.fixture()
def acme(db, world, loaded, record_attempt):
    """Acme's learner holds a pass of alpha ending in 20 days, in an Acme cohort."""
    learner = world["learner"]
    learner.display_name = "Acme Learner Zoë"
    record_attempt(learner, "alpha", 0.9, passed=True, valid_days=20)
    cohort = cohorts.create_cohort(learner.organisation, "Acme intake", by=world["trainer"])
    cohorts.add_member(cohort, learner.public_id, by=world["trainer"])
    db.session.commit()
    return {"learner": learner, "cohort": cohort}


def _private_pages(acme) -> list[str]:
    return [
        f"/dashboard/learners/{acme['learner'].public_id}",
        f"/dashboard/cohorts/{acme['cohort'].public_id}",
        f"/dashboard/?cohort={acme['cohort'].public_id}",
        f"/dashboard/matrix.csv?cohort={acme['cohort'].public_id}",
    ]


def test_anonymous_visitors_are_sent_to_log_in(as_role, acme):
    client = as_role("anonymous")
    for path in LISTS + _private_pages(acme):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_learners_are_refused(as_role, acme):
    client = as_role("learner")
    for path in LISTS + _private_pages(acme):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", ["trainer", "admin", "centre_admin"])
def test_staff_of_the_organisation_and_the_centre_see_the_learner(as_role, acme, role):
    client = as_role(role)
    for path in LISTS[:-1]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Acme Learner Zoë" in response.get_data(as_text=True), path
    for path in _private_pages(acme):
        assert client.get(path).status_code == 200, path
    assert "Acme intake" in client.get("/dashboard/cohorts").get_data(as_text=True)


@pytest.mark.parametrize("role", ["other_admin", "other_trainer"])
def test_staff_of_another_organisation_never_see_the_data(
    as_role, acme, world, make_user, client, role
):
    if role == "other_trainer":
        world["other_trainer"] = make_user("trainer", world["other_learner"].organisation)
    client = as_role(role)
    org_id = acme["learner"].organisation_id
    crafted = [f"?organisation={org_id}", f"?organisation={org_id}&status=expiring"]
    for path in LISTS:
        for query in ["", *crafted]:
            url = path + (("&" + query[1:]) if "?" in path and query else query)
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert "Acme Learner Zoë" not in body, url
            assert "Acme intake" not in body, url
            assert acme["learner"].email not in body, url
    for path in _private_pages(acme):
        assert client.get(path).status_code == 404, path


def test_a_trainer_cannot_open_staff_or_unknown_people_as_learners(as_role, world):
    client = as_role("trainer")
    assert client.get(f"/dashboard/learners/{world['admin'].public_id}").status_code == 404
    assert client.get("/dashboard/learners/nobody").status_code == 404
    assert client.get("/dashboard/?cohort=" + "x" * 300).status_code == 404

"""Cohorts: trainers create, rename, archive, add and remove learners of their own
organisation only; every change is audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.dashboard import cohorts
from lms.dashboard.models import Cohort, CohortMember
from tests.conftest import post_form


def actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.id)))


def the_cohort(db, name: str) -> Cohort:
    return db.session.scalar(sa.select(Cohort).where(Cohort.name == name))


def test_a_trainer_runs_a_cohort_through_the_pages(db, as_role, world):
    client = as_role("trainer")
    response = post_form(client, "/dashboard/cohorts", {"name": "Job-seekers intake March 2027"})
    assert response.status_code == 302
    cohort = the_cohort(db, "Job-seekers intake March 2027")
    assert cohort.organisation_id == world["trainer"].organisation_id
    page = f"/dashboard/cohorts/{cohort.public_id}"
    learner = world["learner"]
    assert learner.display_name in client.get(page).get_data(as_text=True)  # a candidate
    add = post_form(client, page + "/members", {"learner": learner.public_id}, page)
    assert add.status_code == 302
    assert [m.id for m in cohorts.members(cohort)] == [learner.id]
    rename = post_form(client, page + "/rename", {"name": "March 2027"}, page)
    assert rename.status_code == 302
    db.session.refresh(cohort)
    assert cohort.name == "March 2027"
    remove = post_form(client, page + "/members/remove", {"learner": learner.public_id}, page)
    assert remove.status_code == 302 and cohorts.members(cohort) == []
    assert post_form(client, page + "/archive", {}, page).status_code == 302
    db.session.refresh(cohort)
    assert cohort.is_archived
    assert f'value="{cohort.public_id}"' not in client.get("/dashboard/").get_data(as_text=True)
    assert post_form(client, page + "/archive", {}, page).status_code == 302
    db.session.refresh(cohort)
    assert not cohort.is_archived
    assert [a for a in actions(db) if a.startswith("dashboard.")] == [
        "dashboard.cohort.created",
        "dashboard.cohort.member_added",
        "dashboard.cohort.renamed",
        "dashboard.cohort.member_removed",
        "dashboard.cohort.archived",
        "dashboard.cohort.restored",
    ]


def test_a_learner_of_another_organisation_cannot_be_added_by_crafted_post(db, as_role, world):
    client = as_role("trainer")
    cohort = cohorts.create_cohort(world["trainer"].organisation, "Acme A", by=world["trainer"])
    db.session.commit()
    page = f"/dashboard/cohorts/{cohort.public_id}"
    for intruder in (world["other_learner"], world["admin"]):
        response = post_form(client, page + "/members", {"learner": intruder.public_id}, page)
        assert response.status_code == 400
        assert "Choose a learner of the organisation." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CohortMember.id))) == 0


def test_staff_of_another_organisation_cannot_touch_the_cohort(db, as_role, world, make_client):
    cohort = cohorts.create_cohort(world["trainer"].organisation, "Acme B", by=world["trainer"])
    cohorts.add_member(cohort, world["learner"].public_id, by=world["trainer"])
    db.session.commit()
    client = as_role("other_admin")
    page = f"/dashboard/cohorts/{cohort.public_id}"
    token_page = "/dashboard/cohorts"
    for path, data in [
        (page + "/rename", {"name": "Taken over"}),
        (page + "/archive", {}),
        (page + "/members", {"learner": world["other_learner"].public_id}),
        (page + "/members/remove", {"learner": world["learner"].public_id}),
    ]:
        assert post_form(client, path, data, token_page).status_code == 404, path
    db.session.refresh(cohort)
    assert cohort.name == "Acme B" and not cohort.is_archived
    assert len(cohorts.members(cohort)) == 1


def test_a_trainer_cannot_create_a_cohort_in_another_organisation(db, as_role, world):
    client = as_role("trainer")
    other = world["other_learner"].organisation_id
    post_form(client, "/dashboard/cohorts", {"name": "Sneaky", "organisation": other})
    assert the_cohort(db, "Sneaky").organisation_id == world["trainer"].organisation_id


def test_a_centre_admin_creates_a_cohort_for_any_organisation(db, as_role, world):
    client = as_role("centre_admin")
    other = world["other_learner"].organisation_id
    response = post_form(
        client, "/dashboard/cohorts", {"name": "Other intake", "organisation": other}
    )
    assert response.status_code == 302
    cohort = the_cohort(db, "Other intake")
    assert cohort.organisation_id == other
    page = f"/dashboard/cohorts/{cohort.public_id}"
    post_form(client, page + "/members", {"learner": world["other_learner"].public_id}, page)
    assert [m.id for m in cohorts.members(cohort)] == [world["other_learner"].id]


@pytest.mark.parametrize("name", ["", " ", "x", "y" * 121])
def test_names_must_be_reasonable(db, world, name):
    with pytest.raises(cohorts.CohortError):
        cohorts.create_cohort(world["trainer"].organisation, name, by=world["trainer"])


def test_names_are_unique_per_organisation_ignoring_case(db, world):
    org = world["trainer"].organisation
    cohorts.create_cohort(org, "March", by=world["trainer"])
    with pytest.raises(cohorts.CohortError):
        cohorts.create_cohort(org, "  march ", by=world["trainer"])
    cohorts.create_cohort(world["other_learner"].organisation, "March", by=world["other_admin"])


def test_a_learner_is_added_once(db, world):
    cohort = cohorts.create_cohort(world["trainer"].organisation, "Once", by=world["trainer"])
    cohorts.add_member(cohort, world["learner"].public_id, by=world["trainer"])
    with pytest.raises(cohorts.CohortError):
        cohorts.add_member(cohort, world["learner"].public_id, by=world["trainer"])


def test_services_refuse_staff_of_another_organisation(db, world):
    cohort = cohorts.create_cohort(world["trainer"].organisation, "Mine", by=world["trainer"])
    with pytest.raises(PermissionError):
        cohorts.rename_cohort(cohort, "Theirs", by=world["other_admin"])
    with pytest.raises(PermissionError):
        cohorts.create_cohort(world["trainer"].organisation, "X y", by=world["other_admin"])
    with pytest.raises(PermissionError):
        cohorts.create_cohort(world["trainer"].organisation, "X y", by=world["learner"])

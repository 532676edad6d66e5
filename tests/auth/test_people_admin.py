"""Admins create, edit and deactivate users and organisations; every change is audited."""

from __future__ import annotations

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth.models import Organisation, User
from tests.conftest import DEFAULT_PASSWORD, login, post_form


def last_action(db) -> AuditRecord:
    return db.session.scalar(sa.select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))


def new_user_form(org, **overrides):
    data = {
        "email": "new.trainer@example.org",
        "display_name": "Nadia Trainer",
        "role": "trainer",
        "organisation": org.slug,
        "learner_category": "",
        "sector": "chemistry",
        "language": "",
        "password": "initial password 1",
    }
    return {**data, **overrides}


def test_admin_creates_a_trainer_who_can_log_in(client, make_client, make_user, db):
    admin = make_user("admin")
    login(client, admin)
    response = post_form(client, "/people/new", new_user_form(admin.organisation))
    assert response.status_code == 302
    created = db.session.scalar(sa.select(User).where(User.email == "new.trainer@example.org"))
    assert (created.role, created.organisation_id, created.sector) == (
        "trainer",
        admin.organisation_id,
        "chemistry",
    )
    entry = last_action(db)
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "user.created",
        admin.id,
        created.public_id,
    )
    assert login(make_client(), "new.trainer@example.org", "initial password 1").status_code == 302


def test_admin_cannot_create_a_duplicate_email(client, make_user, db):
    admin = make_user("admin")
    make_user(email="taken@example.org")
    login(client, admin)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = post_form(
        client, "/people/new", new_user_form(admin.organisation, email="TAKEN@example.org")
    )
    assert "An account with this e-mail address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count


def test_admin_edits_a_user_and_the_change_is_audited(client, make_user, db):
    admin = make_user("admin")
    learner = make_user("learner", admin.organisation)
    login(client, admin)
    response = post_form(
        client,
        f"/people/{learner.public_id}",
        new_user_form(
            admin.organisation,
            email=learner.email,
            display_name="Renamed Learner",
            role="learner",
            learner_category="student",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(learner)
    assert (learner.display_name, learner.learner_category) == ("Renamed Learner", "student")
    entry = last_action(db)
    assert entry.action == "user.updated"
    assert '"learner_category":["worker","student"]' in entry.details


def test_admin_cannot_change_own_role(client, make_user, db):
    admin = make_user("admin")
    login(client, admin)
    response = post_form(
        client,
        f"/people/{admin.public_id}",
        new_user_form(admin.organisation, email=admin.email, role="learner"),
    )
    assert "You cannot change your own role." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_deactivated_user_is_logged_out_and_cannot_log_back_in(client, make_client, make_user, db):
    admin = make_user("admin")
    learner = make_user("learner", admin.organisation)
    learner_client = make_client()
    login(learner_client, learner)
    assert learner_client.get("/account").status_code == 200
    login(client, admin)
    response = post_form(client, f"/people/{learner.public_id}/deactivate", {}, form_path="/")
    assert response.status_code == 302
    assert learner_client.get("/account").status_code == 302
    assert login(make_client(), learner).status_code == 200
    post_form(client, f"/people/{learner.public_id}/reactivate", {}, form_path="/")
    assert login(make_client(), learner, DEFAULT_PASSWORD).status_code == 302


def test_admin_cannot_deactivate_themself(client, make_user, db):
    admin = make_user("admin")
    login(client, admin)
    post_form(client, f"/people/{admin.public_id}/deactivate", {}, form_path="/")
    db.session.refresh(admin)
    assert admin.active


def test_centre_admin_creates_an_organisation(client, make_user, centre, db):
    login(client, make_user("admin", centre))
    response = post_form(
        client,
        "/organisations/new",
        {
            "name": "Biotech Partner",
            "slug": "biotech-partner",
            "actor_mode": "mbox",
            "self_registration": "y",
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(sa.select(Organisation).where(Organisation.slug == "biotech-partner"))
    assert (org.actor_mode, org.self_registration, org.is_centre) == ("mbox", True, False)
    assert last_action(db).action == "organisation.created"


def test_organisation_with_duplicate_name_or_bad_slug_is_refused(
    client, make_user, centre, make_org, db
):
    make_org("Biotech Partner")
    login(client, make_user("admin", centre))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))
    dup = post_form(
        client,
        "/organisations/new",
        {"name": "biotech partner", "slug": "other-slug", "actor_mode": "account"},
    ).get_data(as_text=True)
    assert "An organisation with this name already exists." in dup
    bad = post_form(
        client,
        "/organisations/new",
        {"name": "New One", "slug": "Bad Slug!", "actor_mode": "account"},
    ).get_data(as_text=True)
    assert "Use lower-case letters, digits and hyphens" in bad
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == count


def test_org_admin_edits_own_organisation(client, make_user, db):
    admin = make_user("admin")
    org = admin.organisation
    login(client, admin)
    response = post_form(
        client,
        f"/organisations/{org.slug}",
        {"name": "Acme Renamed", "actor_mode": "mbox", "self_registration": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.name, org.actor_mode, org.self_registration) == ("Acme Renamed", "mbox", True)


def test_people_search_and_role_filter(client, make_user):
    admin = make_user("admin", display_name="Zoe Admin")
    make_user("learner", admin.organisation, display_name="Marc Learner")
    make_user("trainer", admin.organisation, display_name="Paula Trainer")
    login(client, admin)
    html = client.get("/people/?q=marc").get_data(as_text=True)
    assert "Marc Learner" in html and "Paula Trainer" not in html
    html = client.get("/people/?role=trainer").get_data(as_text=True)
    assert "Paula Trainer" in html and "Marc Learner" not in html

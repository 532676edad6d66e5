"""Who may open a launched session's pages; what a launch does to whoever is signed in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.cmi5.models import Cmi5Learner, Cmi5Session
from tests.cmi5.conftest import page_csrf
from tests.conftest import csrf_token
from tests.conftest import expect_outcome as expect

ROLES = ["anonymous", "learner", "trainer", "admin", "other_learner", "other_admin", "centre_admin"]


@pytest.fixture()
def session_path(db, lms, launched, make_client, world):
    """A session launched in another browser; the path of its page."""
    learner = launched(lms.launch("alpha"), on=make_client())
    return learner.session_path


@pytest.mark.parametrize("role", ROLES)
def test_only_the_launched_learner_sees_the_session_page(session_path, as_role, role):
    expect(as_role(role).get(session_path), "login" if role == "anonymous" else 404)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_launched_learner_can_exit_the_session(db, session_path, as_role, role):
    client = as_role(role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/modules/")
    response = client.post(session_path + "/exit", data={"csrf_token": token})
    expect(response, "login" if role == "anonymous" else 404)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Cmi5Session.state)) == "open"


def test_the_launched_learner_sees_the_page_and_exit_needs_the_csrf_token(db, lms, launched):
    learner = launched(lms.launch("alpha"))
    assert learner.session_page().status_code == 200
    assert learner.client.post(learner.session_path + "/exit").status_code == 400
    assert lms.verbs() == ["initialized"]
    token = page_csrf(learner.session_page().get_data(as_text=True))
    exit_path = learner.session_path + "/exit"
    assert learner.client.post(exit_path, data={"csrf_token": token}).status_code == 303
    replayed = learner.client.post(exit_path, data={"csrf_token": token})
    expect(replayed, "login")  # signed out with the session's end
    assert lms.verbs() == ["initialized", "terminated"]


@pytest.mark.parametrize("role", ROLES)
def test_a_launch_signs_in_the_launched_learner_whoever_was_signed_in(
    db, lms, platform, loaded, as_role, world, role
):
    client = as_role(role)
    response = client.get(lms.url(lms.launch("alpha")))
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    [link] = db.session.scalars(sa.select(Cmi5Learner)).all()
    user = db.session.get(User, link.user_id)
    assert user.role == "learner"
    assert user.organisation_id == platform.organisation_id
    assert user.email.endswith("@cmi5.invalid")
    if role != "anonymous":
        assert world[role].id != user.id
        assert client.get("/account").status_code == 200  # as the launched learner now
    page = client.get("/modules/alpha").get_data(as_text=True)
    assert "You started this module from your learning platform." in page


def test_the_same_actor_is_the_same_account_across_launches(db, lms, launched, make_client):
    launched(lms.launch("alpha"))
    launched(lms.launch("beta"), on=make_client())
    launched(lms.launch("alpha", learner="someone-else"), on=make_client())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cmi5Learner)) == 2
    sessions = db.session.execute(sa.select(Cmi5Session.user_id, Cmi5Session.module_id)).all()
    assert len({user for user, _module in sessions}) == 2


def test_a_trainer_of_the_platforms_organisation_sees_the_launched_learner(
    db, lms, launched, platform, make_user, login_as, make_client
):
    launched(lms.launch("alpha"))
    other_trainer = make_user("trainer")
    own_trainer = make_user("trainer", platform.organisation)
    own = login_as(own_trainer, on=make_client()).get("/dashboard/").get_data(as_text=True)
    other = login_as(other_trainer, on=make_client()).get("/dashboard/").get_data(as_text=True)
    assert "Sam Operator" in own
    assert "Sam Operator" not in other

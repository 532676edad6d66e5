"""``flask --app wsgi lms cmi5 ...``: platforms, and delivery of what waits."""

from __future__ import annotations

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.cmi5.models import Cmi5Platform, Cmi5Statement


def run(app, *args):
    return app.test_cli_runner().invoke(args=["lms", "cmi5", *args])


def test_add_list_and_disable_a_platform(app, db, make_org, lms, loaded, client):
    org = make_org("Host learners")
    added = run(
        app,
        "add-platform",
        "--name",
        "Campus LMS",
        "--organisation",
        org.slug,
        "--origin",
        lms.origin + "/any/path",
        "--origin",
        "HTTPS://LRS.example.org:443/xapi/",
    )
    assert added.exit_code == 0, added.output
    platform = db.session.scalar(sa.select(Cmi5Platform))
    assert platform.origins == [lms.origin, "https://lrs.example.org"]
    assert db.session.scalar(
        sa.select(AuditRecord.action).where(AuditRecord.action == "cmi5.platform.created")
    )
    listed = run(app, "platforms")
    assert "Campus LMS\tenabled\thost-learners" in listed.output

    launch = lms.launch("alpha")
    assert run(app, "set-platform", "Campus LMS", "--disable").exit_code == 0
    assert client.get(lms.url(launch)).status_code == 403
    assert launch.fetches == 0
    assert run(app, "set-platform", "Campus LMS", "--enable").exit_code == 0
    assert client.get(lms.url(launch)).status_code == 302


def test_add_platform_refuses_what_it_cannot_use(app, db, make_org):
    org = make_org("Host learners")
    bad = run(app, "add-platform", "--name", "X", "--organisation", org.slug, "--origin", "lms")
    assert bad.exit_code == 1
    assert "'lms' is not an http(s) address." in bad.output
    unknown = run(
        app,
        "add-platform",
        "--name",
        "X",
        "--organisation",
        "nope",
        "--origin",
        "https://a.example.org",
    )
    assert unknown.exit_code == 1
    assert "No organisation with slug 'nope'." in unknown.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cmi5Platform)) == 0


def test_deliver_exits_1_while_the_lrs_is_down(app, db, lms, launched, monkeypatch):
    learner = launched(lms.launch("alpha"))
    lms.down = True
    learner.take_quiz("alpha", right=True)
    monkeypatch.setitem(app.config, "XAPI_BACKOFF_BASE", 0.0)
    monkeypatch.setitem(app.config, "XAPI_BACKOFF_MAX", 0.0)
    db.session.execute(sa.update(Cmi5Statement).values(next_attempt_at=sa.func.now()))
    db.session.commit()
    ran = run(app, "deliver")
    assert ran.exit_code == 1
    assert "delivered 0, waiting 1, parked 0" in ran.output
    db.session.expire_all()
    waiting = db.session.scalar(sa.select(Cmi5Statement).where(Cmi5Statement.verb == "passed"))
    assert waiting.state == "pending"
    assert waiting.last_error == "HTTP 503: LRS down for maintenance"
    assert waiting.attempts == 2


def test_statements_the_lms_no_longer_accepts_are_parked_not_lost(db, lms, launched, app):
    launch = lms.launch("alpha")
    learner = launched(launch)
    launch.token = "revoked"  # the LMS ended the session's credentials
    learner.take_quiz("alpha", right=True)
    page = learner.session_page().get_data(as_text=True)
    assert "Your learning platform refused 1 record of this session" in page
    parked = db.session.scalar(sa.select(Cmi5Statement).where(Cmi5Statement.state == "parked"))
    assert parked.verb == "passed"
    assert "refused the session's credentials: HTTP 401" in parked.last_error
    lms.refusals.clear()

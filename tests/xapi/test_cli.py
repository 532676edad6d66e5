"""``flask --app wsgi xapi ...`` commands."""

from __future__ import annotations

import sqlalchemy as sa

from lms import xapi
from lms.db_types import utcnow
from lms.xapi.models import LrsEndpoint, StatementDelivery
from tests.xapi.events import LESSON
from tests.xapi.lrs import KEY, SECRET


def run(app, *args, env=None, input=None):
    return app.test_cli_runner().invoke(args=["xapi", *args], env=env, input=input)


def add(app, org, url, *extra, secret=SECRET):
    return run(
        app,
        "endpoint",
        "add",
        "--organisation",
        org.slug,
        "--name",
        "LRS",
        "--url",
        url,
        "--key",
        KEY,
        *extra,
        env={"LMS_XAPI_ENDPOINT_SECRET": secret},
    )


def endpoint(db) -> LrsEndpoint:
    return db.session.scalar(sa.select(LrsEndpoint))


def test_add_reads_the_secret_from_the_environment_and_never_prints_it(app, db, make_org, lrs):
    org = make_org()
    result = add(app, org, lrs.url)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert endpoint(db).secret == SECRET


def test_add_prompts_for_the_secret_without_echoing_it(app, db, make_org, lrs):
    org = make_org()
    result = run(
        app,
        "endpoint",
        "add",
        "--organisation",
        org.slug,
        "--name",
        "LRS",
        "--url",
        lrs.url,
        "--key",
        KEY,
        input="typed-secret\n",
        env={"LMS_XAPI_ENDPOINT_SECRET": ""},
    )
    assert result.exit_code == 0, result.output
    assert "typed-secret" not in result.output
    assert endpoint(db).secret == "typed-secret"


def test_add_has_no_secret_option():
    from lms.xapi.cli import add_command

    assert all("secret" not in param.name for param in add_command.params)


def test_add_refuses_unknown_organisations_and_bad_urls(app, db, make_org):
    assert (
        "No organisation"
        in run(
            app,
            "endpoint",
            "add",
            "--organisation",
            "nope",
            "--name",
            "x",
            "--url",
            "https://x",
            "--key",
            "k",
            env={"LMS_XAPI_ENDPOINT_SECRET": "s"},
        ).output
    )
    assert "starting with https://" in add(app, make_org(), "lrs.example.org").output


def test_list_test_disable_enable_and_resume(app, db, make_org, lrs):
    org = make_org()
    add(app, org, lrs.url)
    endpoint_id = str(endpoint(db).id)
    listing = run(app, "endpoint", "list").output
    assert "LRS" in listing and lrs.url in listing and SECRET not in listing and KEY not in listing
    assert "supports xAPI 1.0.3" in run(app, "endpoint", "test", endpoint_id).output
    assert run(app, "endpoint", "disable", endpoint_id).exit_code == 0
    db.session.expire_all()
    assert endpoint(db).enabled is False
    assert run(app, "endpoint", "enable", endpoint_id).exit_code == 0
    endpoint(db).paused_reason = "refused"
    db.session.commit()
    assert run(app, "endpoint", "resume", endpoint_id).exit_code == 0
    db.session.expire_all()
    assert endpoint(db).paused_reason is None


def test_test_fails_with_a_clear_message_when_the_lrs_is_unreachable(app, db, make_org):
    add(app, make_org(), "http://127.0.0.1:9/xapi/")
    result = run(app, "endpoint", "test", str(endpoint(db).id))
    assert result.exit_code == 1 and "connection failed" in result.output


def test_backfill_and_resend(app, db, make_user, lrs):
    learner = make_user("learner")
    for _ in range(3):
        xapi.record(
            xapi.LearningEvent(
                kind="lesson.experienced", learner=learner, activity=LESSON, occurred_at=utcnow()
            )
        )
    db.session.commit()
    add(app, learner.organisation, lrs.url)
    endpoint_id = str(endpoint(db).id)
    assert "3 statements queued" in run(app, "backfill", "--endpoint", endpoint_id).output
    assert (
        "0 statements queued"
        in run(app, "backfill", "--endpoint", endpoint_id, "--since", "2020-01-01").output
    )
    db.session.execute(sa.update(StatementDelivery).values(state="parked"))
    db.session.commit()
    assert (
        "3 parked statements queued again" in run(app, "resend", "--endpoint", endpoint_id).output
    )

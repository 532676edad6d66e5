"""Admin pages of the LTI tool, for every role; organisations stay apart."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.catalog.models import Module
from lms.db_types import new_uuid, utcnow
from lms.extensions import db as _db
from lms.lti import services
from lms.lti.models import Identity, LinkMember, Platform, ResourceLink, ScorePost, ToolKey
from lms.quiz.models import Attempt
from tests.conftest import ROLES, as_role, csrf_token, expect_outcome
from tests.dashboard.conftest import QueryCounter

FIELDS = {
    "name": "Acme Moodle",
    "issuer": "https://moodle.acme.example.org",
    "client_id": "client-1",
    "deployment_ids": "1\n2\n",
    "auth_login_url": "https://moodle.acme.example.org/mod/lti/auth.php",
    "auth_token_url": "https://moodle.acme.example.org/mod/lti/token.php",
    "auth_audience": "",
    "keyset_url": "https://moodle.acme.example.org/mod/lti/certs.php",
}


@pytest.fixture()
def world(two_organisations, db):
    platform = services.register_platform(
        organisation=two_organisations["acme"],
        deployment_ids=["1"],
        **{k: v for k, v in FIELDS.items() if k != "deployment_ids"},
    )
    db.session.commit()
    return {**two_organisations, "platform": platform}


# path, then: anonymous, learner, trainer, admin, other org's admin, centre admin
GETS = [
    ("/lti/platforms/", ["login", 403, 403, 200, 200, 200]),
    ("/lti/platforms/new", ["login", 403, 403, 200, 200, 200]),
    ("/lti/platforms/{id}", ["login", 403, 403, 200, 404, 200]),
    ("/lti/platforms/999999", ["login", 403, 403, 404, 404, 404]),
    ("/lti/keys", ["login", 403, 403, 403, 403, 200]),
    ("/lti/jwks.json", [200, 200, 200, 200, 200, 200]),
]
POSTS = [
    ("/lti/platforms/{id}/disable", ["login", 403, 403, 302, 404, 302]),
    ("/lti/platforms/{id}/enable", ["login", 403, 403, 302, 404, 302]),
    ("/lti/platforms/{id}/scores/resend", ["login", 403, 403, 302, 404, 302]),
    ("/lti/keys/rotate", ["login", 403, 403, 403, 403, 302]),
]


@pytest.mark.parametrize("template,outcomes", GETS, ids=[g[0] for g in GETS])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(client, world, template, outcomes, role_index):
    as_role(client, world, ROLES[role_index])
    expect_outcome(client.get(template.format(id=world["platform"].id)), outcomes[role_index])


@pytest.mark.parametrize("template,outcomes", POSTS, ids=[p[0] for p in POSTS])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_by_role(db, client, world, template, outcomes, role_index):
    role = ROLES[role_index]
    as_role(client, world, role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/account")
    path = template.format(id=world["platform"].id)
    expect_outcome(client.post(path, data={"csrf_token": token}), outcomes[role_index])
    db.session.expire_all()
    platform = db.session.get(Platform, world["platform"].id)
    changed = outcomes[role_index] == 302
    if path.endswith("/disable"):
        assert platform.enabled is not changed
    if path.endswith("/rotate"):
        count = db.session.scalar(sa.select(sa.func.count()).select_from(ToolKey))
        assert count == (2 if changed else 1)


def test_posts_without_csrf_token_are_refused(client, world):
    as_role(client, world, "admin")
    assert client.post(f"/lti/platforms/{world['platform'].id}/disable").status_code == 400


def test_each_admin_lists_only_their_organisations_platforms(db, client, make_client, world):
    services.register_platform(
        organisation=world["other"],
        deployment_ids=["x"],
        **{
            **{k: v for k, v in FIELDS.items() if k != "deployment_ids"},
            "name": "Other LMS",
            "client_id": "client-other",
        },
    )
    db.session.commit()
    pages = {}
    for role in ("admin", "other_admin", "centre_admin"):
        browser = as_role(make_client(), world, role)
        pages[role] = browser.get("/lti/platforms/").get_data(as_text=True)
    assert "Acme Moodle" in pages["admin"] and "Other LMS" not in pages["admin"]
    assert "Other LMS" in pages["other_admin"] and "Acme Moodle" not in pages["other_admin"]
    assert "Acme Moodle" in pages["centre_admin"] and "Other LMS" in pages["centre_admin"]
    assert "http://lms.test/lti/launch" in pages["admin"]
    assert "http://lms.test/lti/login" in pages["admin"]
    assert "http://lms.test/lti/jwks.json" in pages["admin"]


def _new(client, **changes):
    token = csrf_token(client, "/lti/platforms/new")
    return client.post(
        "/lti/platforms/new",
        data={"csrf_token": token, "organisation": "acme-pharma", **FIELDS, **changes},
    )


def test_an_admin_registers_a_platform_for_their_organisation(db, client, world):
    as_role(client, world, "admin")
    response = _new(client, client_id="client-2", deployment_ids="a\n b \n\na")
    assert response.status_code == 302
    platform = db.session.scalar(sa.select(Platform).where(Platform.client_id == "client-2"))
    assert platform.organisation_id == world["acme"].id
    assert platform.deployment_ids == ["a", "b"]
    assert platform.auth_audience is None
    record = db.session.scalar(
        sa.select(AuditRecord)
        .where(AuditRecord.action == "lti.platform.registered")
        .order_by(AuditRecord.id.desc())
    )
    assert record.actor_id == world["people"]["admin"].id


def test_another_organisations_admin_cannot_register_for_acme(db, client, world):
    as_role(client, world, "other_admin")
    response = _new(client, client_id="client-3")
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Platform).where(Platform.client_id == "client-3")) is None


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"client_id": "client-1"}, "already registered"),
        ({"keyset_url": "ftp://moodle.example.org/certs"}, "https://"),
        ({"auth_login_url": "not a url"}, "https://"),
        ({"deployment_ids": "\n \n"}, "required"),
    ],
)
def test_registration_mistakes_are_shown_beside_their_field(db, client, world, changes, message):
    as_role(client, world, "admin")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Platform))
    response = _new(client, **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Platform)) == before


def test_production_requires_https_addresses(app, db, world, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    with pytest.raises(services.PlatformError) as refused:
        services.register_platform(
            organisation=world["acme"],
            deployment_ids=["1"],
            **{
                **{k: v for k, v in FIELDS.items() if k != "deployment_ids"},
                "client_id": "c9",
                "keyset_url": "http://moodle.example.org/certs",
            },
        )
    assert refused.value.field == "keyset_url"


def test_an_admin_edits_a_platform_and_the_change_is_audited(db, client, world):
    as_role(client, world, "admin")
    path = f"/lti/platforms/{world['platform'].id}"
    page = client.get(path).get_data(as_text=True)
    assert "Acme Moodle" in page and "Settings to enter in the platform" in page
    token = csrf_token(client, path)
    response = client.post(
        path, data={"csrf_token": token, **FIELDS, "name": "Moodle (Lyon)", "deployment_ids": "2"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    platform = db.session.get(Platform, world["platform"].id)
    assert (platform.name, platform.deployment_ids) == ("Moodle (Lyon)", ["2"])
    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "lti.platform.updated")
    )
    details = json.loads(record.details)
    assert details["name"] == ["Acme Moodle", "Moodle (Lyon)"]
    assert details["deployment_ids"] == [["1"], ["2"]]


def test_the_keys_page_shows_the_current_and_retired_keys(db, client, world):
    as_role(client, world, "centre_admin")
    first = db.session.scalar(sa.select(ToolKey))
    token = csrf_token(client, "/lti/keys")
    assert client.post("/lti/keys/rotate", data={"csrf_token": token}).status_code == 302
    page = client.get("/lti/keys").get_data(as_text=True)
    assert first.kid in page and "Retired, published until" in page and "Signs now" in page


def _failed_scores(world, count: int) -> None:
    """``count`` learners of Acme whose scores the platform refused."""
    platform = world["platform"]
    module = _db.session.get(Module, "alpha")
    link = ResourceLink(
        platform_id=platform.id, deployment_id="1", link_id=f"link-{count}", module_id="alpha"
    )
    _db.session.add(link)
    now = utcnow()
    for number in range(count):
        user = User(
            email=f"lti{count}-{number}@example.org",
            display_name=f"Learner {number}",
            password_hash="x",
            organisation_id=world["acme"].id,
        )
        identity = Identity(
            issuer=platform.issuer, subject=f"s{count}-{number}", user=user, platform_id=platform.id
        )
        member = LinkMember(link=link, user=user, identity=identity)
        attempt = Attempt(
            user=user,
            module_id="alpha",
            version_id=module.current_version_id,
            registration=new_uuid(),
            number=1,
            started_at=now,
            submitted_at=now,
            state="submitted",
            draw=[],
            score_raw=3.0,
            score_max=7.0,
            score_scaled=3 / 7,
        )
        _db.session.add_all([user, identity, member, attempt])
        _db.session.flush()
        _db.session.add(
            ScorePost(
                link=link,
                member=member,
                attempt_id=attempt.id,
                score_given=3.0,
                score_maximum=7.0,
                scored_at=now,
                status="failed",
                last_error="HTTP 400",
            )
        )
    _db.session.commit()


@pytest.mark.parametrize("count", [3])
def test_the_platform_page_lists_refused_scores_and_resends_them(db, client, world, loaded, count):
    _failed_scores(world, count)
    as_role(client, world, "admin")
    path = f"/lti/platforms/{world['platform'].id}"
    page = client.get(path).get_data(as_text=True)
    assert "Learner 2" in page and "HTTP 400" in page and "3 failed" in page
    token = csrf_token(client, path)
    response = client.post(f"{path}/scores/resend", data={"csrf_token": token})
    assert response.status_code == 302
    assert "3 scores will be sent again." in client.get(path).get_data(as_text=True)
    statuses = db.session.scalars(sa.select(ScorePost.status)).all()
    assert set(statuses) == {"pending"}


def test_the_platform_page_costs_the_same_queries_for_3_or_30_scores(
    db, client, make_client, world, loaded
):
    counts = []
    for count in (3, 30):
        _failed_scores(world, count)
        browser = as_role(make_client(), world, "admin")
        path = f"/lti/platforms/{world['platform'].id}"
        browser.get(path)
        with QueryCounter(_db.engine) as counter:
            assert browser.get(path).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def _add_platform(runner, organisation, name, issuer, client_id, deployments, urls):
    """``lms lti platform add`` with the login, token and key-set addresses ``urls``."""
    args = ["lms", "lti", "platform", "add", "--organisation", organisation, "--name", name]
    args += ["--issuer", issuer, "--client-id", client_id]
    for deployment in deployments:
        args += ["--deployment", deployment]
    for option, url in zip(("--login-url", "--token-url", "--keyset-url"), urls, strict=True):
        args += [option, url]
    return runner.invoke(args=args)


def test_cli_adds_and_lists_platforms(app, db, two_organisations):
    runner = app.test_cli_runner()
    canvas = "https://sso.canvas.example.org"
    result = _add_platform(
        runner,
        "acme-pharma",
        "Canvas",
        "https://canvas.example.org",
        "10000000000001",
        ["d1", "d2"],
        [
            f"{canvas}/api/lti/authorize_redirect",
            f"{canvas}/login/oauth2/token",
            f"{canvas}/api/lti/security/jwks",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["lms", "lti", "platform", "list"])
    assert "Canvas" in listed.output and "d1,d2" in listed.output and "enabled" in listed.output
    again = _add_platform(
        runner,
        "acme-pharma",
        "Canvas",
        "https://canvas.example.org",
        "10000000000001",
        ["d1"],
        ["https://a.example.org"] * 3,
    )
    assert again.exit_code != 0 and "already registered" in again.output
    unknown = _add_platform(
        runner, "nowhere", "x", "https://x.example.org", "x", ["1"], ["https://x.example.org"] * 3
    )
    assert unknown.exit_code != 0 and "No organisation" in unknown.output

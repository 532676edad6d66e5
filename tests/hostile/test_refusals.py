"""Refusals of hostile requests: path traversal, open redirects, oversized bodies, IDOR."""

from __future__ import annotations

import sqlalchemy as sa

from tests.catalog.conftest import module_root  # noqa: F401
from tests.conftest import csrf_token, post_form
from tests.hostile.conftest import log_in, visible_text

TRAVERSALS = [
    "../module.yaml",
    "..%2fmodule.yaml",
    "%2e%2e%2fmodule.yaml",
    "%2e%2e/%2e%2e/etc/passwd",
    "..%5cmodule.yaml",
    "..\\module.yaml",
    "%2fetc%2fpasswd",
    "C:%5cwindows%5cwin.ini",
    "cascade.svg%00.png",
    "....//cascade.svg",
]


def test_image_route_serves_only_stored_images(client, hostile_world):
    log_in(client, hostile_world["people"]["learner"])
    base = f"/modules/alpha/files/{hostile_world['content_hash']}"
    good = client.get(f"{base}/cascade.svg")
    assert good.status_code == 200
    assert good.mimetype == "image/svg+xml"
    for name in TRAVERSALS:
        for url in (f"{base}/{name}", f"/modules/alpha/files/{name}/cascade.svg"):
            response = client.get(url)
            # 400 for a NUL character (refused before any view), else no such image.
            expected = 400 if "%00" in url else 404
            assert response.status_code == expected, (url, response.status_code)
            assert b"root:" not in response.data and b"title:" not in response.data


def test_static_routes_refuse_traversal(client, hostile_world):
    log_in(client, hostile_world["people"]["learner"])
    for prefix in ("/static", "/catalog-static", "/quiz-static", "/dashboard/dashboard-static"):
        for name in ("../../config.py", "..%2f..%2fconfig.py", "%2e%2e/%2e%2e/__init__.py"):
            response = client.get(f"{prefix}/{name}")
            assert response.status_code == 404, (prefix, name, response.status_code)


def test_package_image_references_outside_the_package_are_not_loaded(db, module_root):  # noqa: F811
    """A lesson pointing at ``../`` or an absolute path loads no file from outside."""
    from lms.catalog.models import LessonImage
    from lms.catalog.sync import sync_packages

    secret = module_root.parent / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nSECRET")
    lesson = module_root / "alpha" / "lessons" / "01-first.md"
    text = lesson.read_text()
    lesson.write_text(
        text
        + "\n\n![a](../../secret.png)\n\n![b](/etc/passwd.png)\n\n"
        + "![c](..\\..\\secret.png)\n\n![d](%2e%2e/%2e%2e/secret.png)\n\n"
        + f"![e]({secret})\n"
    )
    report = sync_packages(module_root)
    db.session.commit()
    alpha = next(entry for entry in report.entries if entry["module"] == "alpha")
    assert alpha["outcome"] == "refused"
    assert any("secret.png" in problem or "image" in problem for problem in alpha["problems"])
    stored = db.session.scalars(sa.select(LessonImage.data)).all()
    assert all(b"SECRET" not in data for data in stored)


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/login",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%09/evil.example",
    "/\t/evil.example",
    "///evil.example",
    "https:evil.example",
    "\x00//evil.example",
    " //evil.example",
    "%2F%2Fevil.example",
]


def assert_on_site(response, what):
    if "\x00" in what:  # refused outright: a NUL character is never accepted
        assert response.status_code == 400, (what, response.status_code)
        return
    assert response.status_code in (302, 303), (what, response.status_code)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), (what, location)
    assert "evil" not in location.split("?")[0].lower() or location.startswith("/%"), (
        what,
        location,
    )


def test_login_never_redirects_off_site(make_client, hostile_world):
    learner = hostile_world["people"]["learner"]
    for target in OFF_SITE:
        client = make_client()
        token = csrf_token(client)
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": learner.email, "password": "correct horse battery", "csrf_token": token},
        )
        assert_on_site(response, target)
    client = make_client()
    token = csrf_token(client)
    response = client.post(
        "/login?next=/my-training",
        data={"email": learner.email, "password": "correct horse battery", "csrf_token": token},
    )
    assert response.headers["Location"] == "/my-training"


def test_language_switch_never_redirects_off_site(client, hostile_world):
    log_in(client, hostile_world["people"]["learner"])
    for target in OFF_SITE:
        response = post_form(client, "/language", {"language": "fr", "next": target}, "/")
        assert_on_site(response, target)


def test_login_required_pages_send_to_login_with_a_local_next(client):
    response = client.get("/my-training?x=//evil.example")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_oversized_bodies_are_refused_with_a_page(client, app, hostile_world):
    assert app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024
    log_in(client, hostile_world["people"]["learner"])
    token = csrf_token(client, "/account")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for path in ("/account", "/login", "/language"):
        response = client.post(path, data={"csrf_token": token, "display_name": big})
        assert response.status_code == 413, (path, response.status_code)
        assert "larger than this service accepts" in visible_text(response.get_data(as_text=True))
    response = client.post(
        "/account",
        data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
        content_type="application/octet-stream",
    )
    assert response.status_code == 413
    upload = (
        b'--cut\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--cut\r\nContent-Disposition: form-data; name="file"; '
        + b'filename="certificate.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        + big.encode()
        + b"\r\n--cut--\r\n"
    )
    response = client.post(
        "/account", data=upload, content_type="multipart/form-data; boundary=cut"
    )
    assert response.status_code == 413
    assert "larger than this service accepts" in visible_text(response.get_data(as_text=True))


def test_a_learner_cannot_open_or_answer_another_learners_attempt(make_client, db, hostile_world):
    from lms.quiz.models import Attempt

    people = hostile_world["people"]
    attempt = hostile_world["open_attempt"]
    before = (attempt.state, attempt.submitted_at)
    for intruder in ("other_learner", "foreign_learner"):
        client = log_in(make_client(), people[intruder])
        token = csrf_token(client, "/account")
        url = f"/attempts/{attempt.public_id}"
        assert client.get(url).status_code in (403, 404)
        assert client.get(url + "/result").status_code in (403, 404)
        response = client.post(url, data={"csrf_token": token, "action": "submit"})
        assert response.status_code in (403, 404)
        response = client.post(url, data={"csrf_token": token, "submit": "1"})
        assert response.status_code in (403, 404)
    passed = hostile_world["passed_attempt"]
    client = log_in(make_client(), people["learner"])
    assert client.get(f"/attempts/{passed.public_id}").status_code in (403, 404)
    assert client.get(f"/attempts/{passed.public_id}/result").status_code in (403, 404)
    db.session.expire_all()
    again = db.session.get(Attempt, attempt.id)
    assert (again.state, again.submitted_at) == before
    owner = log_in(make_client(), people["learner"])
    assert owner.get(f"/attempts/{attempt.public_id}").status_code == 200


def test_a_learner_cannot_see_another_learners_certificate(make_client, hostile_world):
    people = hostile_world["people"]
    code = hostile_world["qualification"].code
    owner = log_in(make_client(), people["other_learner"])
    assert owner.get(f"/qualifications/{code}/certificate").status_code == 200
    holder = people["other_learner"].public_id
    for intruder in ("learner", "foreign_learner", "foreign_admin"):
        client = log_in(make_client(), people[intruder])
        for url in (
            f"/qualifications/{code}/certificate",
            f"/people/{holder}/training",
            f"/people/{holder}/qualifications/{code}/correct",
        ):
            response = client.get(url)
            assert response.status_code in (403, 404), (intruder, url, response.status_code)


def test_a_learner_cannot_cancel_another_learners_booking(make_client, db, hostile_world):
    from lms.practicals.models import Booking

    booking = hostile_world["booking"]
    for intruder in ("other_learner", "foreign_learner"):
        client = log_in(make_client(), hostile_world["people"][intruder])
        token = csrf_token(client, "/account")
        for booking_id in (booking.id, booking.id + 1, 0, -1):
            response = client.post(
                f"/practicals/bookings/{booking_id}/cancel", data={"csrf_token": token}
            )
            assert response.status_code in (403, 404), (booking_id, response.status_code)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).state == "booked"


def test_trainers_and_admins_cannot_reach_another_organisations_people(
    make_client, db, hostile_world
):
    from lms.dashboard.models import CohortMember

    people = hostile_world["people"]
    cohort = hostile_world["cohort"].public_id
    learner = people["learner"].public_id
    client = log_in(make_client(), people["foreign_admin"])
    token = csrf_token(client, "/account")
    for url in (
        f"/dashboard/learners/{learner}",
        f"/dashboard/cohorts/{cohort}",
        f"/people/{learner}",
        f"/people/{learner}/training",
        f"/practicals/sessions/{hostile_world['session'].public_id}/edit",
    ):
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
    members_before = db.session.scalar(sa.select(sa.func.count()).select_from(CohortMember))
    for url, data in (
        (f"/dashboard/cohorts/{cohort}/members", {"learner": learner}),
        (f"/dashboard/cohorts/{cohort}/rename", {"name": "Stolen"}),
        (f"/dashboard/cohorts/{cohort}/archive", {}),
        (f"/people/{learner}/deactivate", {}),
        (f"/people/{learner}/reset-link", {}),
        (f"/api-tokens/{hostile_world['token'].id}/revoke", {}),
        (f"/xapi/endpoints/{hostile_world['endpoint'].id}/resume", {}),
        (f"/lti/platforms/{hostile_world['platform'].id}/disable", {}),
    ):
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (403, 404), (url, response.status_code)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CohortMember)) == members_before
    assert hostile_world["cohort"].name == "Night shift"
    assert db.session.get(type(people["learner"]), people["learner"].id).is_active

"""A learner's path through the catalog: launches, reads, prerequisites, retirement."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import sqlalchemy as sa

from lms.catalog import services
from lms.catalog.models import Enrolment, LessonRead, Module
from lms.xapi.models import Statement
from tests.catalog.conftest import PACKAGES
from tests.conftest import csrf_token, post_form


def _statements(db, user):
    rows = db.session.scalars(
        sa.select(Statement).where(Statement.user_id == user.id).order_by(Statement.id)
    ).all()
    return [(row.kind, json.loads(row.body)) for row in rows]


def _kinds(db, user):
    return [kind for kind, _body in _statements(db, user)]


def test_opening_a_module_launches_it_once(db, loaded, as_role, world):
    client = as_role("learner")
    learner = world["learner"]
    assert client.get("/modules/alpha").status_code == 200
    client.get("/modules/alpha")
    client.get("/modules/alpha/lessons/first")
    assert _kinds(db, learner) == ["module.launched", "module.initialized"]
    enrolment = services.enrolment_for(learner, "alpha")
    _kind, body = _statements(db, learner)[0]
    assert body["context"]["registration"] == enrolment.registration
    assert body["object"]["id"].endswith("/modules/alpha")


def test_opening_again_after_a_pause_is_a_new_launch(db, loaded, as_role, world):
    client = as_role("learner")
    client.get("/modules/alpha")
    enrolment = services.enrolment_for(world["learner"], "alpha")
    enrolment.last_launched_at -= services.RELAUNCH_AFTER + timedelta(minutes=1)
    db.session.commit()
    client.get("/modules/alpha/lessons/second")
    assert _kinds(db, world["learner"]) == ["module.launched", "module.initialized"] * 2


def test_a_deep_link_to_a_lesson_enrols_the_learner(db, loaded, as_role, world):
    as_role("learner").get("/modules/alpha/lessons/second")
    assert services.enrolment_for(world["learner"], "alpha") is not None
    assert _kinds(db, world["learner"]) == ["module.launched", "module.initialized"]


def test_marking_a_lesson_read_writes_one_experienced_statement(db, loaded, as_role, world):
    client = as_role("learner")
    learner = world["learner"]
    response = post_form(
        client, "/modules/alpha/lessons/first/read", {"next_lesson": "second"},
        form_path="/modules/alpha/lessons/first",
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/modules/alpha/lessons/second")
    token = csrf_token(client, "/modules/")
    again = client.post("/modules/alpha/lessons/first/read", data={"csrf_token": token})
    assert again.headers["Location"].endswith("/modules/alpha/lessons/first")
    assert _kinds(db, learner) == ["module.launched", "module.initialized", "lesson.experienced"]
    _kind, body = _statements(db, learner)[-1]
    enrolment = services.enrolment_for(learner, "alpha")
    assert body["object"]["id"].endswith("/modules/alpha/lessons/first")
    assert body["context"]["registration"] == enrolment.registration
    assert body["context"]["contextActivities"]["parent"][0]["id"].endswith("/modules/alpha")
    reads = db.session.scalars(sa.select(LessonRead).where(LessonRead.user_id == learner.id)).all()
    assert [read.lesson_slug for read in reads] == ["first"]


def test_the_next_lesson_must_belong_to_the_module(loaded, as_role):
    client = as_role("learner")
    response = post_form(
        client, "/modules/alpha/lessons/first/read", {"next_lesson": "//evil.example"},
        form_path="/modules/alpha/lessons/first",
    )  # fmt: skip
    assert response.headers["Location"].endswith("/modules/alpha/lessons/first")


def test_lesson_page_shows_navigation_progress_and_contents(db, loaded, as_role):
    client = as_role("learner")
    post_form(
        client, "/modules/alpha/lessons/first/read", {}, form_path="/modules/alpha/lessons/first"
    )
    page = client.get("/modules/alpha/lessons/first").get_data(as_text=True)
    assert 'rel="next" href="/modules/alpha/lessons/second"' in page
    assert 'rel="prev"' not in page
    assert '<progress id="module-progress" max="2" value="1">' in page
    assert '<a href="#why-it-matters">Why it matters</a>' in page
    assert "Mark as read" not in page  # already read
    second = client.get("/modules/alpha/lessons/second").get_data(as_text=True)
    assert 'rel="prev" href="/modules/alpha/lessons/first"' in second
    assert "Mark as read" in second


def test_staff_preview_records_nothing(db, loaded, as_role, world):
    client = as_role("trainer")
    page = client.get("/modules/alpha/lessons/first").get_data(as_text=True)
    assert "Preview" in page
    assert _kinds(db, world["trainer"]) == []
    assert services.enrolment_for(world["trainer"], "alpha") is None


def test_unmet_prerequisites_show_what_is_missing_instead_of_lessons(db, loaded, as_role, world):
    client = as_role("learner")
    page = client.get("/modules/beta").get_data(as_text=True)
    assert "Alpha basics" in page and "not passed yet" in page
    assert "/modules/beta/lessons/only" not in page
    assert _kinds(db, world["learner"]) == []


def test_met_prerequisites_open_the_lessons(db, loaded, as_role, world, passed):
    passed(world["learner"], {"alpha"})
    client = as_role("learner")
    page = client.get("/modules/beta").get_data(as_text=True)
    assert "/modules/beta/lessons/only" in page
    assert client.get("/modules/beta/lessons/only").status_code == 200
    assert _kinds(db, world["learner"]) == ["module.launched", "module.initialized"]


def test_the_list_filters_by_sector_and_words(loaded, as_role):
    client = as_role("learner")

    def titles(query):
        page = client.get(f"/modules/?{query}").get_data(as_text=True)
        return [name for name in ("Alpha basics", "Beta advanced") if name in page]

    assert titles("") == ["Alpha basics", "Beta advanced"]
    assert titles("sector=chemistry") == ["Beta advanced"]
    assert titles("sector=biopharma") == ["Alpha basics"]
    assert titles("q=STERILE+filling") == ["Alpha basics"]
    assert titles("q=sécurité") == ["Beta advanced"]
    assert titles("q=nothing-like-this") == []


def test_content_follows_the_language_with_english_fallback(db, loaded, as_role, world):
    world["learner"].language = "fr"
    db.session.commit()
    client = as_role("learner")
    page = client.get("/modules/alpha").get_data(as_text=True)
    assert "Les bases alpha" in page and "La première leçon" in page


def test_a_retired_module_takes_no_new_learners_but_keeps_its_own(
    db, loaded, as_role, world, make_client
):
    from tests.conftest import login

    enrolled = make_client()
    login(enrolled, world["other_learner"])
    enrolled.get("/modules/alpha")
    services.set_status(db.session.get(Module, "alpha"), "retired", by=world["centre_admin"])
    db.session.commit()

    newcomer = as_role("learner")
    assert "Alpha basics" not in newcomer.get("/modules/").get_data(as_text=True)
    assert "takes no new learners" in newcomer.get("/modules/alpha").get_data(as_text=True)
    assert newcomer.get("/modules/alpha/lessons/first").status_code == 302
    assert services.enrolment_for(world["learner"], "alpha") is None

    assert "Alpha basics" in enrolled.get("/modules/").get_data(as_text=True)
    assert enrolled.get("/modules/alpha/lessons/first").status_code == 200


def test_admin_retires_and_enables_a_module(db, loaded, as_role):
    client = as_role("centre_admin")
    post_form(client, "/admin/modules/alpha/retire", {}, form_path="/admin/modules/alpha")
    assert db.session.get(Module, "alpha").status == "retired"
    assert "Retired" in client.get("/admin/modules/").get_data(as_text=True)
    post_form(client, "/admin/modules/alpha/enable", {}, form_path="/admin/modules/alpha")
    assert db.session.get(Module, "alpha").status == "enabled"
    from lms.audit.models import AuditRecord

    actions = db.session.scalars(
        sa.select(AuditRecord.action).where(AuditRecord.action.like("catalog.module.%abled"))
    ).all()
    assert actions == ["catalog.module.enabled"]


def test_admin_pages_show_versions_and_the_last_sync(
    db, loaded, as_role, sync_modules, module_root
):
    shutil.copytree(PACKAGES / "broken" / "cycle-a", module_root / "cycle-a")
    sync_modules(module_root)
    client = as_role("admin")
    page = client.get("/admin/modules/").get_data(as_text=True)
    assert "Refused: the previous version keeps serving" in page
    assert "names no module" in page
    detail = client.get("/admin/modules/alpha").get_data(as_text=True)
    assert db.session.get(Module, "alpha").current_version.content_hash in detail
    assert "Retire this module" not in detail  # only centre admins change modules


def test_images_are_served_as_images_only(db, loaded, as_role):
    version = db.session.get(Module, "alpha").current_version
    response = as_role("learner").get(f"/modules/alpha/files/{version.content_hash}/cascade.svg")
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]


def test_the_lesson_page_links_images_of_its_version(db, loaded, as_role):
    client = as_role("learner")
    page = client.get("/modules/alpha/lessons/first").get_data(as_text=True)
    version = db.session.get(Module, "alpha").current_version
    assert f'src="../files/{version.content_hash}/cascade.svg"' in page


def test_a_hostile_package_renders_inert_on_every_page(db, sync_modules, as_role):
    from tests.catalog.test_render import assert_inert, inspect

    sync_modules(PACKAGES / "hostile")
    client = as_role("learner")
    for path in ("/modules/", "/modules/hostile", "/modules/hostile/lessons/attack"):
        page = client.get(path).get_data(as_text=True)
        found = inspect(page)
        assert not {"script", "iframe", "svg", "style", "object", "embed"} & set(found.tags)
        for tag, name, value in found.attributes:
            assert not name.startswith("on"), (path, tag, name)
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), path
    lesson_page = client.get("/modules/hostile/lessons/attack").get_data(as_text=True)
    article = lesson_page.split('<article class="lesson" lang="en">')[1].split("</article>")[0]
    assert_inert(article.split("</p>", 1)[1])  # the lesson body, after the page's own header
    version = db.session.get(Module, "hostile").current_version
    response = client.get(f"/modules/hostile/files/{version.content_hash}/evil.svg")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_enrolment_is_unique_per_learner_and_module(db, loaded, world):
    module = db.session.get(Module, "alpha")
    first = services.open_module(world["learner"], module)
    db.session.commit()
    db.session.add(Enrolment(user_id=world["learner"].id, module_id="alpha"))
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
    else:  # pragma: no cover
        raise AssertionError("a second enrolment was accepted")
    assert services.open_module(world["learner"], module).id == first.id

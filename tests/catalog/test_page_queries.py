"""The module page, a lesson and marking it read cost the same queries whatever the
number of lessons; a reload of the module page writes nothing."""

from __future__ import annotations

import shutil

import pytest

from lms.catalog.models import Enrolment
from lms.extensions import db as extension_db
from tests.conftest import csrf_token
from tests.dashboard.conftest import QueryCounter, page_queries

EXTRA_LESSONS = 6


@pytest.fixture()
def long_module(module_root, sync_modules):
    """``long``: alpha with six more lessons (eight in all), loaded with alpha and beta."""
    root = module_root / "long"
    shutil.copytree(module_root / "alpha", root)
    listed = []
    for n in range(3, 3 + EXTRA_LESSONS):
        name = f"{n:02d}-more-{n}.md"
        (root / "lessons" / name).write_text(
            f"---\ntitle: {{en: Lesson {n}, fr: Leçon {n}}}\nminutes: 5\n---\n\nText {n}.\n"
        )
        listed.append(f"  - {name}\n")
    manifest = root / "module.yaml"
    text = manifest.read_text().replace("id: alpha", "id: long", 1)
    manifest.write_text(text.replace("  - 02-second.md\n", "  - 02-second.md\n" + "".join(listed)))
    sync_modules(module_root)
    return "long"


@pytest.fixture()
def many_prerequisites(module_root, sync_modules):
    """``gamma``: beta requiring alpha and three more modules (copies of alpha)."""
    extra = [f"extra-{n}" for n in range(3)]
    for module_id in extra:
        shutil.copytree(module_root / "alpha", module_root / module_id)
        manifest = module_root / module_id / "module.yaml"
        manifest.write_text(manifest.read_text().replace("id: alpha", f"id: {module_id}", 1))
    shutil.copytree(module_root / "beta", module_root / "gamma")
    manifest = module_root / "gamma" / "module.yaml"
    text = manifest.read_text().replace("id: beta", "id: gamma", 1)
    manifest.write_text(
        text.replace("prerequisites: [alpha]", f"prerequisites: [alpha, {', '.join(extra)}]")
    )
    sync_modules(module_root)
    return "gamma"


def mark_read_queries(client, module_id: str, slug: str) -> int:
    token = csrf_token(client, f"/modules/{module_id}/lessons/{slug}")
    with QueryCounter(extension_db.engine) as counter:
        response = client.post(
            f"/modules/{module_id}/lessons/{slug}/read", data={"csrf_token": token}
        )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/modules/{module_id}/lessons/{slug}")
    return counter.count


def test_module_page_queries_do_not_grow_with_lessons(long_module, as_role):
    client = as_role("learner")
    short = page_queries(client, "/modules/alpha")
    long = page_queries(client, "/modules/long")
    assert client.get("/modules/long").get_data(as_text=True).count("Lesson ") >= EXTRA_LESSONS
    assert long == short


def test_module_page_queries_do_not_grow_with_prerequisites(many_prerequisites, as_role):
    client = as_role("learner")
    one = page_queries(client, "/modules/beta")
    four = page_queries(client, "/modules/gamma")
    assert client.get("/modules/gamma").get_data(as_text=True).count("Alpha basics") == 4
    assert four == one


def test_reloading_the_module_page_writes_nothing(db, long_module, as_role, world):
    client = as_role("learner")
    client.get("/modules/alpha")
    with QueryCounter(extension_db.engine) as counter:
        assert client.get("/modules/alpha").status_code == 200
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    # Nothing committed, so nothing read twice: the person and the module once each.
    assert sum("FROM user_account" in s for s in counter.statements) == 1
    assert sum("FROM catalog_module " in s for s in counter.statements) == 1
    assert db.session.query(Enrolment).filter_by(user_id=world["learner"].id).count() == 1


def test_lesson_page_queries_do_not_grow_with_lessons(long_module, as_role):
    client = as_role("learner")
    short = page_queries(client, "/modules/alpha/lessons/second")
    long = page_queries(client, "/modules/long/lessons/second")
    assert long == short


def test_marking_read_queries_do_not_grow_with_lessons(long_module, as_role):
    client = as_role("learner")
    client.get("/my-training")  # reads the lessons of every version, as another page would
    short = mark_read_queries(client, "alpha", "first")
    long = mark_read_queries(client, "long", "first")
    assert long == short
    again = mark_read_queries(client, "long", "first")
    assert again <= long

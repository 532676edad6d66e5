"""My training reads a fixed number of rows per page, whatever the number of modules."""

from __future__ import annotations

import shutil

from lms.catalog import services as catalog
from lms.catalog.models import Lesson, Module
from tests.dashboard.conftest import page_queries
from tests.progress.test_qualifications import take


def add_modules(module_root, sync_modules, count: int) -> list[str]:
    """``count`` more modules, copies of alpha under new ids, loaded."""
    ids = [f"extra-{n}" for n in range(count)]
    for module_id in ids:
        shutil.copytree(module_root / "alpha", module_root / module_id)
        manifest = module_root / module_id / "module.yaml"
        manifest.write_text(manifest.read_text().replace("id: alpha", f"id: {module_id}", 1))
    sync_modules(module_root)
    return ids


def learn(db, learner, module_id: str) -> None:
    """Open the module, read its first lesson and pass its quiz."""
    module = db.session.get(Module, module_id)
    lesson = db.session.get(Lesson, module.current_version.lessons[0].id)
    catalog.mark_read(learner, module, lesson)
    db.session.commit()
    take(db, learner, module)


def test_my_training_queries_do_not_grow_with_modules(
    db, loaded, world, as_role, clock, module_root, sync_modules
):
    learner = world["learner"]
    learn(db, learner, "alpha")
    client = as_role("learner")
    few = page_queries(client, "/my-training")
    for module_id in add_modules(module_root, sync_modules, 4):
        learn(db, learner, module_id)
    many = page_queries(client, "/my-training")
    html = client.get("/my-training").get_data(as_text=True)
    assert html.count('data-module="extra-') == 4
    assert html.count("Passed") == 5 and html.count("Certificate") == 5
    assert many == few


def test_a_learners_training_page_queries_do_not_grow_with_modules(
    db, loaded, world, as_role, clock, module_root, sync_modules
):
    learner = world["learner"]
    learn(db, learner, "alpha")
    client = as_role("trainer")
    path = f"/people/{learner.public_id}/training"
    few = page_queries(client, path)
    for module_id in add_modules(module_root, sync_modules, 4):
        learn(db, learner, module_id)
    many = page_queries(client, path)
    assert client.get(path).get_data(as_text=True).count("Correct this record") == 5
    assert many == few


def test_my_training_counts_lessons_read_of_each_module(db, loaded, world, as_role, clock):
    learner = world["learner"]
    alpha = db.session.get(Module, "alpha")
    catalog.mark_read(learner, alpha, alpha.current_version.lessons[0])
    db.session.commit()
    html = as_role("learner").get("/my-training").get_data(as_text=True)
    assert "1 of 2 lessons read" in html

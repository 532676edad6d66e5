"""``lms modules sync``: idempotent, versioned by content, never half-loaded."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.catalog.models import Lesson, LessonImage, Module, ModuleVersion, SyncReport
from tests.catalog.conftest import PACKAGES


def _versions(db, module_id):
    return db.session.scalars(
        sa.select(ModuleVersion)
        .where(ModuleVersion.module_id == module_id)
        .order_by(ModuleVersion.id)
    ).all()


def _outcomes(report):
    return {entry["module"]: entry["outcome"] for entry in report.entries}


def test_first_sync_loads_every_package(db, loaded):
    assert _outcomes(loaded) == {"alpha": "loaded", "beta": "loaded"}
    alpha = db.session.get(Module, "alpha")
    version = alpha.current_version
    assert alpha.status == "enabled"
    assert version.title == {"en": "Alpha basics", "fr": "Les bases alpha"}
    assert version.sector == "biopharma"
    assert version.quiz_settings["shuffle_options"] is True  # default filled in
    assert [q["type"] for q in version.questions] == [
        "single_choice", "multiple_response", "true_false", "numeric", "matching", "ordering",
        "short_text",
    ]  # fmt: skip
    assert [lesson.slug for lesson in version.lessons] == ["first", "second"]
    assert "<figure>" in version.lessons[0].html
    image = db.session.scalar(sa.select(LessonImage).where(LessonImage.version_id == version.id))
    assert (image.name, image.media_type) == ("cascade.svg", "image/svg+xml")
    assert db.session.get(Module, "beta").current_version.prerequisites == ["alpha"]


def test_an_unchanged_package_changes_nothing(db, loaded, sync_modules, module_root):
    counts = {
        model: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (ModuleVersion, Lesson, LessonImage, AuditRecord)
    }
    report = sync_modules(module_root)
    assert _outcomes(report) == {"alpha": "unchanged", "beta": "unchanged"}
    for model, count in counts.items():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == count


def test_a_changed_package_becomes_a_new_version(db, loaded, sync_modules, module_root):
    first = db.session.get(Module, "alpha").current_version
    first_id, first_hash = first.id, first.content_hash
    lesson = module_root / "alpha" / "lessons" / "02-second.md"
    lesson.write_text(lesson.read_text().replace("The end.", "The real end."))
    report = sync_modules(module_root)
    assert _outcomes(report) == {"alpha": "loaded", "beta": "unchanged"}
    versions = _versions(db, "alpha")
    assert [v.id for v in versions][0] == first_id
    assert versions[0].content_hash == first_hash  # the old version is kept as it was
    assert "The end." in versions[0].lessons[1].html
    assert db.session.get(Module, "alpha").current_version_id == versions[1].id
    assert "The real end." in versions[1].lessons[1].html


def test_reverting_a_package_restores_its_earlier_version(db, loaded, sync_modules, module_root):
    lesson = module_root / "alpha" / "lessons" / "02-second.md"
    original = lesson.read_text()
    lesson.write_text(original + "\nMore.\n")
    sync_modules(module_root)
    lesson.write_text(original)
    report = sync_modules(module_root)
    assert _outcomes(report)["alpha"] == "restored"
    versions = _versions(db, "alpha")
    assert len(versions) == 2
    assert db.session.get(Module, "alpha").current_version_id == versions[0].id


def test_a_broken_package_loads_nothing_and_the_previous_version_keeps_serving(
    db, loaded, sync_modules, module_root
):
    served = db.session.get(Module, "alpha").current_version_id
    quiz = module_root / "alpha" / "quiz.yaml"
    quiz.write_text(quiz.read_text().replace("answer: a\n", "answer: zz\n", 1))
    lesson = module_root / "alpha" / "lessons" / "02-second.md"
    lesson.write_text(lesson.read_text() + "\nChanged too.\n")
    shutil.copytree(PACKAGES / "broken" / "bad-yaml", module_root / "bad-yaml")
    report = sync_modules(module_root)
    assert _outcomes(report) == {"alpha": "refused", "bad-yaml": "refused", "beta": "unchanged"}
    assert len(_versions(db, "alpha")) == 1
    assert db.session.get(Module, "alpha").current_version_id == served
    assert db.session.get(Module, "bad-yaml") is None
    alpha_entry = next(e for e in report.entries if e["module"] == "alpha")
    assert alpha_entry["problems"] == [
        f"{module_root / 'alpha'}/quiz.yaml:9: questions[0].answer: "
        "'zz' is not one of the option ids"
    ]
    assert report.refused == 2


def test_a_new_cycle_is_refused_against_loaded_modules(db, loaded, sync_modules, module_root):
    manifest = module_root / "alpha" / "module.yaml"
    manifest.write_text(manifest.read_text().replace("prerequisites: []", "prerequisites: [beta]"))
    report = sync_modules(module_root)
    assert _outcomes(report) == {"alpha": "refused", "beta": "refused"}
    assert db.session.get(Module, "alpha").current_version.prerequisites == []


def test_a_removed_prerequisite_is_refused_unless_loaded(db, sync_modules, module_root, tmp_path):
    only_beta = tmp_path / "only-beta"
    only_beta.mkdir()
    shutil.copytree(module_root / "beta", only_beta / "beta")
    report = sync_modules(only_beta)
    assert _outcomes(report) == {"beta": "refused"}
    sync_modules(module_root)
    assert _outcomes(sync_modules(only_beta)) == {"alpha": "absent", "beta": "unchanged"}


def test_each_sync_leaves_a_report_and_an_audit_record(db, loaded):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReport)) == 1
    actions = db.session.scalars(
        sa.select(AuditRecord.action).where(AuditRecord.target_type == "module")
    ).all()
    assert sorted(actions) == ["catalog.module.loaded", "catalog.module.loaded"]


def test_cli_check_prints_problems_and_exits_non_zero(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "modules", "check", str(PACKAGES / "broken" / "cycle-a")])
    assert result.exit_code == 1
    assert result.output == (
        f"{PACKAGES / 'broken' / 'cycle-a'}/module.yaml:8: prerequisites: "
        "prerequisites form a cycle: cycle-a -> cycle-b -> cycle-a\n"
    )
    good = runner.invoke(args=["lms", "modules", "check", str(PACKAGES / "good")])
    assert (good.exit_code, good.output) == (0, "")


def test_cli_sync_reports_each_package(app, db, module_root):
    shutil.copytree(PACKAGES / "broken" / "bad-yaml", module_root / "bad-yaml")
    result = app.test_cli_runner().invoke(
        args=["lms", "modules", "sync", "--path", str(module_root)]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("loaded    alpha ")
    assert lines[1] == "refused   bad-yaml"
    assert "invalid YAML" in lines[2]
    assert lines[3].startswith("loaded    beta ")


def test_a_module_whose_package_disappeared_keeps_serving(db, loaded, sync_modules, module_root):
    shutil.rmtree(module_root / "beta")
    report = sync_modules(module_root)
    assert _outcomes(report) == {"alpha": "unchanged", "beta": "absent"}
    assert db.session.get(Module, "beta").current_version is not None

"""Practical type files: checked by ``lms modules check``, loaded by ``lms modules sync``."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from lms.practicals import definitions, loading
from lms.practicals.models import PracticalType, PracticalTypeRevision
from tests.practicals.conftest import SHIPPED

GOOD = """\
id: {id}
title: {{en: Title, fr: Titre}}
summary: {{en: Summary, fr: Résumé}}
room_kind: clean-room-grade-b
duration_minutes: 60
default_capacity: 4
prerequisites:
  all_of:
    - qualification_valid: {{module: gmp-fundamentals}}
{extra}"""


@pytest.fixture()
def root(tmp_path):
    """A copy of the shipped modules and practical types, free to change."""
    target = tmp_path / "modules"
    shutil.copytree(SHIPPED, target)
    return target


def write(root, type_id, extra="", text=None):
    path = root / "practicals" / f"{type_id}.yaml"
    path.write_text(text if text is not None else GOOD.format(id=type_id, extra=extra))
    return path


def test_the_shipped_practical_types_are_sound():
    assert loading.check_practicals(SHIPPED) == []
    ids = {path.stem for path in definitions.find_definitions(SHIPPED)}
    assert {"grade-b-gowning", "aseptic-filling", "loop-check-4-20ma"} <= ids


def test_the_check_command_reports_practicals(app, root):
    write(root, "broken", "    - module_passed: {module: no-such-module}\n")
    result = app.test_cli_runner().invoke(args=["lms", "modules", "check", str(root)])
    assert result.exit_code == 1
    assert "practicals/broken.yaml:7: prerequisites: 'no-such-module' names no module" in (
        result.output
    )


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("    - module_passed: {module: nope}\n", "'nope' names no module"),
        ("    - practical_signed_off: {practical: nope}\n", "'nope' names no practical type"),
        ("    - practical_signed_off: {practical: thing}\n", "cannot require itself"),
        ("    - frobnicate: {module: x}\n", "unknown condition 'frobnicate'"),
        ("other: 1\n", "unknown key 'other'"),
    ],
)
def test_problems_of_one_file(root, extra, problem):
    write(root, "thing", extra)
    problems = loading.check_practicals(root)
    assert any(problem in line for line in problems), problems
    assert all("thing.yaml" in line for line in problems)


def test_every_title_needs_english_and_french(root):
    text = GOOD.format(id="thing", extra="").replace("{en: Title, fr: Titre}", "{en: Title}")
    write(root, "thing", text=text)
    assert any("missing the French translation" in p for p in loading.check_practicals(root))


def test_the_file_is_named_after_its_id(root):
    write(root, "thing", text=GOOD.format(id="other-id", extra=""))
    assert any("named after the id" in p for p in loading.check_practicals(root))


def test_a_cycle_among_practical_prerequisites_is_refused(root):
    write(root, "first", "    - practical_signed_off: {practical: second}\n")
    write(root, "second", "    - practical_signed_off: {practical: first}\n")
    problems = loading.check_practicals(root)
    assert any("first.yaml" in p and "cycle: first -> second -> first" in p for p in problems)
    assert any("second.yaml" in p and "cycle" in p for p in problems)


def test_invalid_yaml_is_reported_with_its_line(root):
    write(root, "thing", text="id: thing\ntitle: [unclosed\n")
    assert any("thing.yaml:" in p for p in loading.check_practicals(root))


@pytest.fixture()
def modules_loaded(monkeypatch):
    monkeypatch.setattr(
        loading,
        "_loaded_module_ids",
        lambda: {"gmp-fundamentals", "aseptic-handling", "electro-instrumentation"},
    )


def test_sync_loads_then_leaves_unchanged_then_keeps_history(db, root, modules_loaded):
    entries = loading.sync_practicals(root)
    db.session.commit()
    assert {e.practical: e.outcome for e in entries} == {
        "grade-b-gowning": "loaded",
        "aseptic-filling": "loaded",
        "loop-check-4-20ma": "loaded",
    }
    assert {e.outcome for e in loading.sync_practicals(root)} == {"unchanged"}
    path = root / "practicals" / "grade-b-gowning.yaml"
    path.write_text(path.read_text().replace("default_capacity: 6", "default_capacity: 5"))
    entries = {e.practical: e.outcome for e in loading.sync_practicals(root)}
    assert entries["grade-b-gowning"] == "loaded"
    assert db.session.get(PracticalType, "grade-b-gowning").default_capacity == 5
    revisions = db.session.scalars(
        sa.select(PracticalTypeRevision).where(PracticalTypeRevision.type_id == "grade-b-gowning")
    ).all()
    assert [r.definition["default_capacity"] for r in revisions] == [6, 5]


def test_a_broken_file_loads_nothing_and_the_previous_content_serves(db, root, modules_loaded):
    loading.sync_practicals(root)
    path = root / "practicals" / "grade-b-gowning.yaml"
    path.write_text(path.read_text().replace("default_capacity: 6", "default_capacity: 0"))
    entries = {e.practical: e for e in loading.sync_practicals(root)}
    assert entries["grade-b-gowning"].outcome == "refused"
    assert "default_capacity" in entries["grade-b-gowning"].problems[0]
    assert db.session.get(PracticalType, "grade-b-gowning").default_capacity == 6


def test_a_rule_naming_a_module_not_loaded_is_refused(db, root, monkeypatch):
    monkeypatch.setattr(loading, "_loaded_module_ids", lambda: {"gmp-fundamentals"})
    entries = {e.practical: e.outcome for e in loading.sync_practicals(root)}
    assert entries["grade-b-gowning"] == "refused"
    assert db.session.get(PracticalType, "grade-b-gowning") is None

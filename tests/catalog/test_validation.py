"""``lms modules check``: sound packages pass, each broken package reports file and line."""

from __future__ import annotations

import pytest

from lms.catalog.checking import check_path, find_cycle
from tests.catalog.conftest import PACKAGES, SHIPPED

BROKEN = PACKAGES / "broken"

#: Every problem of each deliberately broken package, as ``modules check`` prints it.
EXPECTED = {
    "unknown-keys": [
        "lessons/01-one.md:4: tags: unknown key 'tags'",
        "module.yaml:6: author: unknown key 'author'",
        "quiz.yaml:7: questions[0].hint: unknown key 'hint'",
    ],
    "translations": [
        "lessons/01-one.md:2: title: missing the French translation (fr)",
        "module.yaml:3: title: missing the French translation (fr)",
        "module.yaml:4: summary: missing the French translation (fr)",
        "module.yaml:4: summary.de: unknown language 'de'",
    ],
    "answers": [
        "quiz.yaml:9: questions[0].answer: 'c' is not one of the option ids",
        "quiz.yaml:12: questions[1].id: duplicate question id 'q1'",
        "quiz.yaml:19: questions[1].answer[1]: 'z' is not one of the option ids",
        "quiz.yaml:21: questions[1].source.ref: 'nowhere' is not the id of a source in module.yaml",
        "quiz.yaml:32: questions[2].answer.x: 'v' is not one of the target ids",
    ],
    "missing-lesson": [
        "module.yaml:8: prerequisites: 'nowhere' names no module",
        "module.yaml:9: lessons: lessons/02-gone.md does not exist",
    ],
    "bad-yaml": ["module.yaml:6: -: invalid YAML: expected ',' or ']', but got ':'"],
    "front-matter": [
        "lessons/01-one.md:3: front matter: expected ',' or '}', but got ':'",
        "lessons/02-two.md:1: front matter: "
        "the file must start with a front matter block opened by ---",
        "lessons/03-three.md:6: image: 'absent.svg' does not exist in lessons/",
        "lessons/03-three.md:8: image: 'https://example.org/x.png' is not an image file "
        "beside the lesson (svg, png, jpg, webp)",
        "lessons/03-three.md:10: admonition: admonition type 'info' is not one of "
        "note, tip, warning, danger",
    ],
    "cycle-a": [
        "module.yaml:8: prerequisites: prerequisites form a cycle: cycle-a -> cycle-b -> cycle-a"
    ],
    "cycle-b": [
        "module.yaml:8: prerequisites: prerequisites form a cycle: cycle-b -> cycle-a -> cycle-b"
    ],
}


def _report(root):
    return {
        result.path.name: [problem.format() for problem in sorted(result.problems)]
        for result in check_path(root)
    }


def test_every_broken_package_reports_each_problem_with_file_and_line():
    assert _report(BROKEN) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_package_checked_alone_reports_the_same(name):
    assert _report(BROKEN / name) == {name: EXPECTED[name]}


def test_good_packages_have_no_problem():
    assert _report(PACKAGES / "good") == {"alpha": [], "beta": []}


@pytest.mark.parametrize(
    "name", ["gmp-fundamentals", "aseptic-handling", "electro-instrumentation"]
)
def test_shipped_module_has_no_problem(name):
    if not (SHIPPED / name / "module.yaml").exists():
        pytest.skip(f"{name} is not written yet")
    assert _report(SHIPPED / name) == {name: []}


def test_practicals_folder_is_not_a_module(tmp_path):
    (tmp_path / "practicals").mkdir()
    assert check_path(tmp_path) == []


def test_folder_without_module_yaml_is_reported(tmp_path):
    (tmp_path / "empty").mkdir()
    assert _report(tmp_path) == {"empty": ["module.yaml:1: -: file not found"]}


def test_id_must_match_the_folder(module_root):
    (module_root / "alpha").rename(module_root / "gamma")
    problems = _report(module_root)["gamma"]
    assert "module.yaml:1: id: 'alpha' differs from the folder name 'gamma'" in problems


def test_duplicate_yaml_keys_are_reported(module_root):
    manifest = module_root / "beta" / "module.yaml"
    manifest.write_text(manifest.read_text() + "sector: both\n")
    assert _report(module_root)["beta"] == [
        "module.yaml:13: sector: this key appears more than once"
    ]


def test_unquoted_version_is_refused(module_root):
    manifest = module_root / "beta" / "module.yaml"
    manifest.write_text(manifest.read_text().replace('version: "2"', "version: 2.0"))
    assert _report(module_root)["beta"] == [
        'module.yaml:2: version: write the version in quotes ("2.0"), so it stays text'
    ]


def test_symlinked_lesson_is_refused(module_root, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: {en: S, fr: S}\nminutes: 1\n---\nsecret\n")
    lesson = module_root / "beta" / "lessons" / "01-only.md"
    lesson.unlink()
    lesson.symlink_to(secret)
    assert _report(module_root)["beta"] == [
        "module.yaml:9: lessons: lessons/01-only.md does not exist"
    ]


def test_image_with_wrong_content_is_refused(module_root):
    lesson = module_root / "beta" / "lessons" / "01-only.md"
    lesson.write_text(lesson.read_text() + "\n![x](fake.png)\n")
    (module_root / "beta" / "lessons" / "fake.png").write_bytes(b"<svg onload=alert(1)>")
    assert _report(module_root)["beta"] == [
        "lessons/fake.png:1: -: the file's content is not image/png"
    ]


def test_too_few_questions_for_an_attempt(module_root):
    manifest = module_root / "beta" / "module.yaml"
    manifest.write_text(
        manifest.read_text().replace("questions_per_attempt: 1", "questions_per_attempt: 5")
    )
    assert _report(module_root)["beta"] == [
        "quiz.yaml:1: questions: the bank has 1 questions; quiz.questions_per_attempt asks for 5"
    ]


@pytest.mark.parametrize(
    "graph,start,cycle",
    [
        ({"a": ["b"], "b": []}, "a", None),
        ({"a": ["b"], "b": ["a"]}, "a", ["a", "b", "a"]),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, "b", ["b", "c", "a", "b"]),
        ({"a": ["b", "c"], "b": ["c"], "c": []}, "a", None),
        ({"a": ["b"], "b": ["c"], "c": ["b"]}, "a", None),
    ],
)
def test_find_cycle(graph, start, cycle):
    assert find_cycle(graph, start) == cycle

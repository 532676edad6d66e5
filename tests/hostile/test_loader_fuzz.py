"""The package loader fed broken packages: problems are reported, nothing crashes, and a
refused package leaves its previous version serving, whole.

Each example starts from the good ``alpha`` package (already loaded), breaks it at
random (a key of module.yaml or quiz.yaml replaced by any YAML value, a lesson's front
matter or body replaced, a file replaced by random bytes or deleted), then runs
``lms modules check`` and the sync.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.catalog.models import Lesson, LessonImage, Module, ModuleVersion
from lms.catalog.sync import sync_packages
from tests.catalog.conftest import PACKAGES
from tests.hostile.conftest import HEALTH

BUDGET = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[getattr(__import__("hypothesis").HealthCheck, n) for n in HEALTH],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["alpha", "beta", "../x", "01-first.md", "/etc/passwd", "", "single"]),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=3),
    ),
    max_leaves=8,
)
raw_text = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda data: data.decode("latin-1")),
    st.sampled_from(
        [
            "",
            "---\n",
            "---\n---\n",
            ": : :\n",
            "{",
            "- [",
            "&a [*a, *a]\n",
            "!!python/object/apply:os.system ['echo pwned']\n",
            "a: &a [*a]\n",
            "---\ntitle: [unclosed\n---\nbody\n",
            "---\ntitle: {en: x}\nminutes: -5\n---\n![x](../../secret.png)\n",
            "\ufeff---\ntitle: {en: x}\n---\n",
        ]
    ),
)
MODULE_KEYS = ["id", "version", "title", "summary", "sector", "estimated_minutes",
               "validity_months", "prerequisites", "lessons", "quiz", "unknown"]  # fmt: skip
QUIZ_KEYS = ["sources", "questions", "unknown"]
SETTING_KEYS = ["pass_mark", "questions_per_attempt", "balance_topics", "max_attempts",
                "cooldown_minutes", "time_limit_minutes", "review", "unknown"]  # fmt: skip
QUESTION_KEYS = ["id", "type", "topic", "prompt", "feedback", "source", "options", "answer",
                 "partial_credit", "tolerance", "unit", "sources", "targets", "items",
                 "accepted", "accent_sensitive", "unknown"]  # fmt: skip


@st.composite
def breakage(draw):
    """A list of changes to apply to a copy of the alpha package."""
    kind = st.sampled_from(
        ["module_key", "setting", "quiz_key", "question", "lesson", "file", "delete"]
    )
    changes = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        what = draw(kind)
        if what == "module_key":
            changes.append((what, draw(st.sampled_from(MODULE_KEYS)), draw(yaml_values)))
        elif what == "setting":
            changes.append((what, draw(st.sampled_from(SETTING_KEYS)), draw(yaml_values)))
        elif what == "quiz_key":
            changes.append((what, draw(st.sampled_from(QUIZ_KEYS)), draw(yaml_values)))
        elif what == "question":
            # Which question (each of the bank's seven types), which key, which value.
            key = (draw(st.integers(0, 6)), draw(st.sampled_from(QUESTION_KEYS)))
            changes.append((what, key, draw(yaml_values)))
        elif what == "lesson":
            front = draw(st.dictionaries(st.sampled_from(["title", "minutes", "x"]), yaml_values))
            changes.append((what, front, draw(raw_text)))
        else:
            name = draw(
                st.sampled_from(
                    ["module.yaml", "quiz.yaml", "lessons/01-first.md", "lessons/cascade.svg"]
                )
            )
            changes.append((what, name, draw(raw_text)))
    return changes


def _dump(value) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


def _load(path: Path) -> dict:
    """The mapping a YAML file holds, or an empty one when an earlier change broke it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def apply(package: Path, changes) -> None:
    for what, key, value in changes:
        if what == "module_key":
            data = _load(package / "module.yaml")
            data[key] = value
            (package / "module.yaml").write_text(_dump(data), encoding="utf-8")
        elif what == "setting":
            data = _load(package / "module.yaml")
            if isinstance(data.get("quiz"), dict):
                data["quiz"][key] = value
            (package / "module.yaml").write_text(_dump(data), encoding="utf-8")
        elif what in ("quiz_key", "question"):
            data = _load(package / "quiz.yaml")
            questions = data.get("questions")
            if what == "quiz_key":
                data[key] = value
            elif isinstance(questions, list) and questions:
                index, name = key
                question = questions[index % len(questions)]
                if isinstance(question, dict):
                    question[name] = value
            (package / "quiz.yaml").write_text(_dump(data), encoding="utf-8")
        elif what == "lesson":
            front = "---\n" + _dump(key) + "---\n" if key else ""
            (package / "lessons" / "01-first.md").write_text(front + value, encoding="utf-8")
        elif what == "file":
            path = package / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value, encoding="utf-8", errors="surrogatepass")
        else:
            (package / key).unlink(missing_ok=True)


def counts() -> dict[str, int]:
    from lms.extensions import db

    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Module, ModuleVersion, Lesson, LessonImage)
    }


@pytest.fixture()
def alpha_loaded(db, tmp_path):
    root = tmp_path / "modules"
    shutil.copytree(PACKAGES / "good", root)
    sync_packages(root)
    db.session.commit()
    return root


def test_broken_packages_are_reported_never_half_loaded(app, db, alpha_loaded):
    from lms.extensions import db as _db

    runner = app.test_cli_runner()
    current = _db.session.get(Module, "alpha").current_version_id
    baseline = counts()
    outcomes: set[str] = set()

    @BUDGET
    @given(changes=breakage())
    def run(changes):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder) / "modules"
            shutil.copytree(alpha_loaded, root)
            apply(root / "alpha", changes)
            checked = runner.invoke(args=["lms", "modules", "check", str(root)])
            assert checked.exception is None or isinstance(checked.exception, SystemExit), (
                checked.output
            )
            assert checked.exit_code in (0, 1), checked.output
            savepoint = _db.session.begin_nested()
            try:
                report = sync_packages(root)
                entry = next(e for e in report.entries if e["path"].endswith("/alpha"))
                outcomes.add(entry["outcome"])
                after = counts()
                module = _db.session.get(Module, "alpha")
                if entry["outcome"] == "refused":
                    assert entry["problems"], entry
                    assert checked.exit_code == 1, checked.output
                    assert module.current_version_id == current
                    assert after == baseline, (after, baseline)
                else:
                    assert entry["outcome"] in ("loaded", "unchanged"), entry
                    version = module.current_version
                    assert version.lessons, "a loaded version has its lessons"
                    assert after["ModuleVersion"] - baseline["ModuleVersion"] in (0, 1)
            finally:
                savepoint.rollback()
                _db.session.expire_all()

    run()
    assert "refused" in outcomes, outcomes
    assert _db.session.get(Module, "alpha").current_version_id == current
    assert counts() == baseline


def test_random_bytes_everywhere_never_crash_the_sync(app, db, alpha_loaded):
    from lms.extensions import db as _db

    baseline = counts()

    @BUDGET
    @given(
        files=st.dictionaries(
            st.sampled_from(["module.yaml", "quiz.yaml", "lessons/01-first.md", "lessons/x.md"]),
            st.binary(max_size=300),
            min_size=1,
        )
    )
    def run(files):
        with tempfile.TemporaryDirectory() as folder:
            package = Path(folder) / "modules" / "alpha"
            shutil.copytree(alpha_loaded / "alpha", package)
            for name, data in files.items():
                (package / name).write_bytes(data)
            savepoint = _db.session.begin_nested()
            try:
                report = sync_packages(package.parent)
                (entry,) = [e for e in report.entries if e["path"].endswith("/alpha")]
                if entry["outcome"] == "refused":
                    assert entry["problems"]
                    assert counts() == baseline
            finally:
                savepoint.rollback()
                _db.session.expire_all()

    run()


def _broken_copy(tmp_path: Path, file: str, change) -> Path:
    package = tmp_path / "alpha"
    shutil.copytree(PACKAGES / "good" / "alpha", package)
    text = (package / file).read_text(encoding="utf-8")
    (package / file).write_text(change(text), encoding="utf-8")
    return package


def test_a_nul_character_in_module_yaml_is_a_problem_on_its_line(tmp_path):
    from lms.catalog.package import read_package

    lines = (PACKAGES / "good" / "alpha" / "module.yaml").read_text().count("\n")
    package = _broken_copy(tmp_path, "module.yaml", lambda text: text + "notes: a\x00b\n")
    result = read_package(package)
    assert result.package is None
    (problem,) = result.problems
    assert (problem.file, problem.line) == ("module.yaml", lines + 1)
    assert "#x0000 is not allowed" in problem.message


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("module.yaml", "  - id: annex1", "  - id: [annex1]"),
        ("quiz.yaml", "type: single_choice", "type: [single_choice]"),
        ("quiz.yaml", "    answer: a\n", "    answer: [a]\n"),
        ("quiz.yaml", "source: {ref: annex1, where", "source: {ref: [annex1], where"),
        ("quiz.yaml", "answer: [a, c]", "answer: [[a], c]"),
        ("quiz.yaml", "answer: {a: filling,", "answer: {a: [filling],"),
    ],
)
def test_a_list_where_an_id_belongs_is_a_problem_not_a_crash(tmp_path, file, old, new):
    from lms.catalog.package import read_package

    package = _broken_copy(tmp_path, file, lambda text: text.replace(old, new, 1))
    assert (package / file).read_text() != (PACKAGES / "good" / "alpha" / file).read_text()
    result = read_package(package)
    assert result.package is None
    assert result.problems, "the package is refused with its problems named"

"""The cmi5 course structure of a module: valid against the cmi5 XSD, right moveOn."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from lms.catalog import services as catalog
from lms.cmi5 import export
from lms.xapi.validation import is_iri
from tests.cmi5.conftest import SHIPPED

XSD = Path("/work/shared/reference/cmi5/CourseStructure.xsd")
REFERENCE = XSD.parent
NS = {"c": export.NAMESPACE}
SHIPPED_MODULES = sorted(p.name for p in SHIPPED.iterdir() if (p / "module.yaml").exists())


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.skip(f"the cmi5 schema is not at {XSD}")
    return etree.XMLSchema(etree.parse(str(XSD)))


def parsed(data: bytes, schema) -> etree._Element:
    document = etree.fromstring(data)
    schema.assertValid(document)
    return document


def test_the_schema_accepts_the_specifications_samples_and_refuses_a_broken_one(schema):
    for sample in ("simple-cmi5.xml", "complex-cmi5.xml"):
        assert schema.validate(etree.parse(str(REFERENCE / sample)))
    broken = etree.fromstring(
        f'<courseStructure xmlns="{export.NAMESPACE}"><course id="x"><title/></course>'
        "</courseStructure>".encode()
    )
    assert not schema.validate(broken)


@pytest.fixture()
def shipped(db, sync_modules):
    report = sync_modules(SHIPPED)
    assert report.refused == 0
    return {name: catalog.find_module(name) for name in SHIPPED_MODULES}


def test_the_three_shipped_modules_are_shipped():
    assert len(SHIPPED_MODULES) == 3


@pytest.mark.parametrize("name", SHIPPED_MODULES)
def test_each_shipped_module_exports_a_valid_course_structure(app, shipped, schema, name):
    module = shipped[name]
    version = module.current_version
    document = parsed(export.course_structure(version, "http://lms.test"), schema)
    [course] = document.findall("c:course", NS)
    [au] = document.findall("c:au", NS)
    for element in (course, au):
        assert is_iri(element.get("id"))
        titles = {s.get("lang"): s.text for s in element.findall("c:title/c:langstring", NS)}
        assert titles == {"en": version.title["en"], "fr": version.title["fr"]}
        languages = {s.get("lang") for s in element.findall("c:description/c:langstring", NS)}
        assert languages == {"en", "fr"}
    assert course.get("id") != au.get("id")
    assert au.get("id") == f"http://lms.test/xapi/activities/modules/{name}"
    assert au.get("moveOn") == "CompletedAndPassed"
    assert au.get("masteryScore") == format(version.quiz_settings["pass_mark"], "g")
    assert au.get("launchMethod") == "OwnWindow"
    assert au.find("c:url", NS).text == f"http://lms.test/cmi5/launch/{name}"


@pytest.mark.parametrize(
    ("pass_mark", "expected"), [(0.8, "0.8"), (0.75, "0.75"), (1, "1"), (0.66666, "0.6667")]
)
def test_the_mastery_score_is_the_pass_mark_as_a_decimal(pass_mark, expected):
    assert export.move_on({"pass_mark": pass_mark}, True) == ("CompletedAndPassed", expected)


def test_a_module_without_a_quiz_moves_on_when_completed(schema):
    version = SimpleNamespace(
        module_id="reading-only",
        title={"en": "Reading only", "fr": "Lecture seule"},
        summary={"en": "Lessons, no quiz.", "fr": "Des leçons, pas de quiz."},
        quiz_settings=None,
        questions=[],
    )
    document = parsed(export.course_structure(version, "https://lms.example.org/"), schema)
    au = document.find("c:au", NS)
    assert au.get("moveOn") == "Completed"
    assert au.get("masteryScore") is None
    assert au.find("c:url", NS).text == "https://lms.example.org/cmi5/launch/reading-only"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["lms", "modules", "export-cmi5", *args])


def test_the_command_writes_cmi5_xml(app, db, loaded, schema, tmp_path):
    result = run(app, "alpha", "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = tmp_path / "out" / "cmi5.xml"
    assert f"wrote {written}" in result.output
    au = parsed(written.read_bytes(), schema).find("c:au", NS)
    assert au.get("masteryScore") == "0.8"
    assert au.find("c:url", NS).text == "http://lms.test/cmi5/launch/alpha"


def test_the_command_writes_a_zip_package_with_cmi5_xml_at_its_root(
    app, db, loaded, schema, tmp_path
):
    result = run(app, "beta", "--output", str(tmp_path), "--zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO((tmp_path / "beta-cmi5.zip").read_bytes())) as package:
        assert package.namelist() == ["cmi5.xml"]
        parsed(package.read("cmi5.xml"), schema)


def test_the_command_refuses_an_unknown_module(app, db, loaded, tmp_path):
    result = run(app, "nowhere", "--output", str(tmp_path))
    assert result.exit_code == 1
    assert "No module 'nowhere' is loaded (loaded: alpha, beta)" in result.output
    assert not (tmp_path / "cmi5.xml").exists()

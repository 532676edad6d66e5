"""Lesson rendering: the supported Markdown, and a hostile lesson rendered inert."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.catalog.render import ALLOWED_TAGS, render_lesson, sanitise
from tests.catalog.conftest import PACKAGES


def image_url(name: str) -> str:
    return f"../files/HASH/{name}"


class Inspector(HTMLParser):
    """Collects what a browser would act on: elements, attributes, URLs."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)


def inspect(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


def assert_inert(html: str) -> None:
    found = inspect(html)
    assert set(found.tags) <= ALLOWED_TAGS
    for tag, name, value in found.attributes:
        assert not name.startswith("on"), (tag, name, value)
        assert name not in ("style", "srcdoc", "formaction", "action"), (tag, name)
        if name in ("href", "src"):
            scheme = urlsplit((value or "").strip()).scheme.lower()
            assert scheme in ("", "http", "https", "mailto"), (tag, name, value)


def test_headings_get_anchors_and_a_table_of_contents():
    rendered = render_lesson("## First part\n\ntext\n\n### A detail\n\n## Second", image_url)
    assert '<h2 id="first-part">' in rendered.html
    assert 'href="#first-part"' in rendered.html
    assert rendered.toc == [
        {"level": 2, "id": "first-part", "text": "First part"},
        {"level": 3, "id": "a-detail", "text": "A detail"},
        {"level": 2, "id": "second", "text": "Second"},
    ]


def test_tables_keep_their_alignment_without_inline_styles():
    rendered = render_lesson("| a | b |\n| :-- | --: |\n| 1 | 2 |\n", image_url)
    assert '<td align="right">2</td>' in rendered.html
    assert "style=" not in rendered.html


def test_admonitions_of_each_type():
    source = '!!! warning "Never overwrite a record"\n    Body.\n\n!!! note\n    A note.\n'
    html = render_lesson(source, image_url).html
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Never overwrite a record</p>' in html
    assert '<div class="admonition note">' in html


def test_an_image_alone_becomes_a_figure_with_its_caption():
    rendered = render_lesson(
        'Intro.\n\n![A cascade](cascade.svg "Figure 1: a cascade")\n', image_url
    )
    assert (
        '<figure><img alt="A cascade" loading="lazy" src="../files/HASH/cascade.svg">'
        "<figcaption>Figure 1: a cascade</figcaption></figure>"
    ) in rendered.html
    assert rendered.images == ["cascade.svg"]


def test_an_image_within_text_stays_inline():
    html = render_lesson("See ![icon](icon.png) here.", image_url).html
    assert '<p>See <img alt="icon" loading="lazy" src="../files/HASH/icon.png"> here.</p>' in html


def test_remote_and_traversing_images_are_dropped():
    source = "![remote](https://evil.example/t.png)\n\n![up](../../x.svg)\n\n![q](x.svg?a=1)"
    rendered = render_lesson(source, image_url)
    assert "<img" not in rendered.html
    assert rendered.images == []


def test_the_hostile_lesson_renders_inert():
    source = (PACKAGES / "hostile" / "hostile" / "lessons" / "01-attack.md").read_text()
    body = source.split("---\n", 2)[2]
    html = render_lesson(body, image_url).html
    assert_inert(html)
    for needle in ("<script", "<iframe", "<style", "<form", "<svg", "<div onclick"):
        assert needle not in html
    assert "&lt;script&gt;alert('block')&lt;/script&gt;" in html  # shown, not run


def test_sanitise_strips_what_markdown_could_let_through():
    dirty = (
        '<a href="javascript:alert(1)" onclick="x()">a</a><img src=x onerror=alert(1)>'
        '<iframe src="https://e"></iframe><script>alert(1)</script><p style="color:red">p</p>'
        '<div class="admonition evil">d</div>'
    )
    html = sanitise(dirty)
    assert_inert(html)
    assert "alert" not in html
    assert '<div class="admonition">d</div>' in html


FRAGMENTS = st.sampled_from(
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
        '<a href="javascript:x">', "<iframe src=//e>", "![i](x.svg)", "![i](javascript:x.svg)",
        "<svg/onload=alert(1)>", "`code`", "**b**", "\n\n", "\n    ", "## h",
        "| a |\n|---|\n| b |\n", '!!! note "t"\n    ', "<", ">", '"', "'", "&", "javascript:",
        "onerror=", "(", ")", "[", "]",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=25))
def test_any_lesson_renders_inert(parts):
    assert_inert(render_lesson("".join(parts), image_url).html)

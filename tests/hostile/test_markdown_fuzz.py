"""The lesson renderer fed hostile Markdown: nothing executable ever comes out.

The output is parsed as a browser would (``html.parser``) and every tag and attribute is
checked: no script-bearing element, no event handler, no script URL, no inline style.
"""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.catalog.render import render_lesson, sanitise
from tests.hostile.conftest import parse

BUDGET = settings(max_examples=300, deadline=None, derandomize=True, database=None)

FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "style", "svg", "math", "base", "form", "input",
    "button", "link", "meta", "frame", "frameset", "applet", "template", "noscript", "xmp",
    "textarea", "select", "video", "audio", "source",
}  # fmt: skip
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<svg onload=alert(1)><circle r="1"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<!-- <script>alert(1)</script> -->",
    "<!--><script>alert(1)</script>-->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](java%0ascript:alert(1))",
    '[click](https://example.org "onmouseover=alert(1)")',
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](cascade.svg "\\" onerror=\\"alert(1))',
    "![x](../../../etc/passwd)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '!!! note "<script>alert(1)</script>"\n    body',
    "## <img src=x onerror=alert(1)> heading",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | `x` |",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>`",
    "<a href='x' onclick='alert(1)'>x</a>",
    '<a href="https://ok.example" target="_blank" rel="opener">x</a>',
    "<div onmouseover=alert(1)>x</div>",
    "<xmp><script>alert(1)</script></xmp>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
]

MARKDOWN_GLUE = [
    "# Title\n\n",
    "\n\n",
    "\n",
    "    ",
    "> ",
    "* ",
    "1. ",
    "**",
    "_",
    "`",
    "[",
    "](",
    ")",
    "!",
    "<",
    ">",
    '"',
    "'",
    "=",
    "&",
    "#",
    ";",
    "\x00",
    "\t",
    "!!! warning\n    ",
    "| x |\n|---|\n| ",
]

markdown_source = st.lists(
    st.one_of(st.sampled_from(PAYLOADS), st.sampled_from(MARKDOWN_GLUE), st.text(max_size=20)),
    min_size=1,
    max_size=12,
).map("".join)


def assert_inert(output: str) -> None:
    for tag, attributes in parse(output).tags:
        assert tag not in FORBIDDEN_TAGS, (tag, output)
        for name, value in attributes:
            assert not name.startswith("on"), (tag, name, output)
            assert name not in {"style", "srcdoc", "formaction"}, (tag, name, output)
            if name in URL_ATTRIBUTES and value:
                # As a browser reads a URL: entities decoded (by the parser), tabs, newlines
                # and control characters ignored, case folded. Percent escapes are not
                # decoded in a scheme, so ``java%0ascript:`` is a harmless relative path.
                cleaned = "".join(char for char in html.unescape(value) if ord(char) > 32)
                cleaned = cleaned.lower()
                assert not cleaned.startswith(SCRIPT_SCHEMES), (tag, name, value, output)


def image_url(name: str) -> str:
    return f"../files/hash/{name}"


@BUDGET
@given(source=markdown_source)
def test_rendered_lessons_never_carry_script(source):
    assert_inert(render_lesson(source, image_url).html)


@BUDGET
@given(fragment=markdown_source)
def test_the_sanitiser_alone_removes_every_script(fragment):
    """The second wall stands on its own: raw HTML straight into ``sanitise``."""
    assert_inert(sanitise(fragment))


def test_every_payload_is_inert_alone_and_the_check_catches_them_raw():
    for payload in PAYLOADS:
        assert_inert(render_lesson(payload, image_url).html)
    caught = 0
    for payload in PAYLOADS:
        try:
            assert_inert(payload)
        except AssertionError:
            caught += 1
    assert caught >= 30, "the inertness check must catch the raw payloads"


def test_script_text_stays_visible_as_text():
    """Raw HTML is not run and not silently lost: the author sees what they wrote."""
    rendered = render_lesson("Before <script>alert(1)</script> after", image_url).html
    assert "&lt;script&gt;" in rendered
    assert "after" in rendered

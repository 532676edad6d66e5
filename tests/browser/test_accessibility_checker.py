"""The accessibility check itself: it finds what it should, so a clean journey means something."""

from __future__ import annotations

import pytest


@pytest.fixture()
def blank(chromium):
    context = chromium.new_context()
    tab = context.new_page()
    yield tab
    context.close()


def test_axe_refuses_a_page_with_an_unlabelled_field_and_an_image_without_text(blank, axe):
    blank.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<form><input type="text" name="q"></form></main></body></html>'
    )
    found = {v["id"] for v in axe.violations(blank)}
    assert {"image-alt", "label"} <= found
    with pytest.raises(AssertionError, match="image-alt"):
        axe(blank)


def test_axe_accepts_the_same_page_made_accessible(blank, axe):
    blank.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>'
        '<img alt="Gowning sequence" src="data:image/png;base64,iVBORw0KGgo=">'
        '<form><label for="q">Search</label><input id="q" type="text" name="q"></form>'
        "</main></body></html>"
    )
    axe(blank)

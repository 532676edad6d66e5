"""Every user-visible text has a French translation, and placeholders survive it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted(tmp_path) -> list:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg"]
        + ["-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


def french() -> dict:
    with (ROOT / "lms/translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        return {
            message.id: message.string for message in read_po(handle, locale="fr") if message.id
        }


def test_every_message_has_a_french_translation(tmp_path):
    catalogue = french()
    missing = []
    for message in extracted(tmp_path):
        translation = catalogue.get(message.id)
        forms = translation if isinstance(translation, tuple | list) else [translation]
        if not translation or not all(forms):
            missing.append(message.id)
    assert missing == [], f"{len(missing)} messages lack French: {missing[:20]}"


def test_translations_keep_their_placeholders():
    for msgid, translation in french().items():
        ids = msgid if isinstance(msgid, tuple) else [msgid]
        strings = translation if isinstance(translation, tuple | list) else [translation]
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in filter(None, strings):
            assert set(PLACEHOLDER.findall(string)) == expected, (msgid, string)

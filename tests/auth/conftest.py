"""Account fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1, and reading its mail."""

from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """What the SMTP server received: the parsed messages, oldest first."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once there are ``count`` of them (fails after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.messages) >= count, f"{len(self.messages)} messages, not {count}"
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp_server():
    """A real SMTP server on a free port of 127.0.0.1 (not yet used by the app)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    yield mailbox
    controller.stop()


@pytest.fixture()
def mailbox(app, smtp_server, monkeypatch):
    """The app sends its e-mail to ``smtp_server``; returns the server's mailbox."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "lms@example.org")
    return smtp_server


LINK = re.compile(r"http://lms\.test/password/reset/[A-Za-z0-9_\-]+")


def reset_link(message: EmailMessage) -> str:
    """The reset link in an e-mail (the path on this service)."""
    match = LINK.search(message.get_content())
    assert match, message.get_content()
    return match.group(0).removeprefix("http://lms.test")

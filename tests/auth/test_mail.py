"""Sending e-mail: plain, STARTTLS with a log-in, TLS from the start; certificates are
verified; the settings never show the SMTP password."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from lms.auth import mail
from lms.config import ConfigError, validate
from tests.auth.conftest import Mailbox, free_port

SMTP_USER, SMTP_PASSWORD = "lms-mailer", "smtp-password-123"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


def start(mailbox: Mailbox, **options):
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


def message(app):
    with app.app_context():
        return mail.compose("someone@example.org", "Hello", "A body.")


def settings(port: int, **extra) -> mail.SmtpSettings:
    return mail.SmtpSettings(host="127.0.0.1", port=port, sender="lms@example.org", **extra)


def trusting(certificate, monkeypatch) -> None:
    """The client trusts the test certificate, as it trusts a real CA."""
    monkeypatch.setattr(
        mail, "tls_context", lambda: ssl.create_default_context(cafile=str(certificate[0]))
    )


def test_plain_delivery(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "lms@example.org")
    mailbox = Mailbox()
    controller, port = start(mailbox)
    try:
        mail.send(message(app), settings(port))
    finally:
        controller.stop()
    [received] = mailbox.messages
    assert received["Subject"] == "Hello" and received["To"] == "someone@example.org"
    assert received["Message-ID"].endswith("@example.org>")


def test_starttls_and_login(app, certificate, monkeypatch):
    trusting(certificate, monkeypatch)
    mailbox = Mailbox()
    controller, port = start(
        mailbox,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    try:
        mail.send(
            message(app),
            settings(port, security="starttls", username=SMTP_USER, password=SMTP_PASSWORD),
        )
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1


def test_tls_from_the_start(app, certificate, monkeypatch):
    trusting(certificate, monkeypatch)
    mailbox = Mailbox()
    controller, port = start(mailbox, ssl_context=server_context(certificate))
    try:
        mail.send(message(app), settings(port, security="ssl"))
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1


def test_an_untrusted_certificate_is_refused(app, certificate):
    mailbox = Mailbox()
    controller, port = start(
        mailbox, tls_context=server_context(certificate), require_starttls=True
    )
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            mail.send(message(app), settings(port, security="starttls"))
    finally:
        controller.stop()
    assert mailbox.messages == []


def test_settings_from_the_configuration():
    assert mail.SmtpSettings.from_config({"MAIL_SERVER": ""}) is None
    config = {
        "MAIL_SERVER": "smtp.example.org",
        "MAIL_PORT": 587,
        "MAIL_USE_TLS": True,
        "MAIL_USERNAME": SMTP_USER,
        "MAIL_PASSWORD": SMTP_PASSWORD,
        "MAIL_DEFAULT_SENDER": "lms@example.org",
        "MAIL_TIMEOUT": 3,
    }
    found = mail.SmtpSettings.from_config(config)
    assert (found.security, found.port, found.timeout) == ("starttls", 587, 3.0)
    assert SMTP_PASSWORD not in repr(found)
    ssl_only = mail.SmtpSettings.from_config(
        {**config, "MAIL_USE_TLS": False, "MAIL_USE_SSL": True}
    )
    assert ssl_only.security == "ssl"


def test_tls_and_ssl_together_are_refused(app):
    with pytest.raises(ConfigError, match="not both"):
        validate({**app.config, "MAIL_USE_TLS": True, "MAIL_USE_SSL": True})


@pytest.mark.parametrize("key", ["RESET_LINK_EMAIL_LIMIT", "LOCKOUT_NOTICE_LIMIT"])
def test_limits_must_be_rates(app, key):
    with pytest.raises(ConfigError, match=f"LMS_{key}"):
        validate({**app.config, key: "often"})

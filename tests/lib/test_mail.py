"""lib/mail: templates per locale, MIME with alternatives and attachments, the file backend,
and SMTP over STARTTLS / implicit TLS with auth, reconnects and error classes (aiosmtpd)."""

from __future__ import annotations

import socket
import ssl
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tessera.lib.config import MailSettings
from tessera.lib.mail import (
    Attachment,
    MailMessage,
    PermanentMailError,
    SmtpMailer,
    TemplateRenderer,
    TransientMailError,
    create_mailer,
)

TEMPLATES = Path(__file__).parents[2] / "src/tessera/blocks/notify/templates"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("bounce@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret-pass"
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_files(ca: trustme.CA, tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def test_templates_render_both_locales_with_html_alternative():
    renderer = TemplateRenderer(TEMPLATES)
    context = {"name": "Ann", "email": "ann@example.com", "hours": 72, "link": "https://x/?t=<1>"}
    english = renderer.render_mail("verify_email", locale="en-GB", context=context)
    assert (english.locale, english.subject) == ("en", "Confirm your email address")
    assert "https://x/?t=<1>" in english.text  # plain text is not escaped
    assert english.html is not None
    assert "https://x/?t=&lt;1&gt;" in english.html
    chinese = renderer.render_mail("verify_email", locale="zh-CN", context=context)
    assert chinese.subject == "请验证您的邮箱地址"
    assert "72 小时内有效" in chinese.text
    assert renderer.resolve_locale("zh") == "zh-CN"
    assert renderer.resolve_locale("fr-FR") == "en"
    with pytest.raises(Exception, match="is undefined"):
        renderer.render_mail("verify_email", locale="en", context={"name": "x"})


async def test_file_backend_writes_one_eml_with_alternative_and_attachment(tmp_path):
    mailer = create_mailer(MailSettings(backend="file"), var_dir=tmp_path / "var")
    message_id = await mailer.send(
        MailMessage(
            to="ann@example.com",
            subject="Invoice 7",
            text="See attached.",
            html="<p>See attached.</p>",
            attachments=(Attachment("invoice.pdf", b"%PDF-1.4 fake", "application/pdf"),),
        )
    )
    [path] = list((tmp_path / "var" / "outbox-mail").glob("*.eml"))
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == message_id
    assert parsed.get_body(("plain",)).get_content().strip() == "See attached."
    assert parsed.get_body(("html",)).get_content().strip() == "<p>See attached.</p>"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"


async def test_smtp_starttls_with_auth_delivers(tls_files):
    server_context, ca_file = tls_files
    sink = Sink()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    settings = MailSettings(
        backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_username="mailer",
        smtp_password="s3cret-pass",
        smtp_starttls=True,
        smtp_ca_file=ca_file,
        from_address="Shop <shop@example.com>",
    )
    mailer = SmtpMailer(settings)
    try:
        for index in range(3):
            await mailer.send(MailMessage(to="ann@example.com", subject=f"m{index}", text="hi"))
    finally:
        await mailer.close()
        controller.stop()
    assert [message["Subject"] for message in sink.messages] == ["m0", "m1", "m2"]
    assert sink.messages[0]["From"] == "Shop <shop@example.com>"


async def test_smtp_implicit_tls(tls_files):
    server_context, ca_file = tls_files
    sink = Sink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), ssl_context=server_context
    )
    controller.start()
    mailer = SmtpMailer(
        MailSettings(
            backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_implicit_tls=True,
            smtp_ca_file=ca_file,
        )
    )
    try:
        await mailer.send(MailMessage(to="ann@example.com", subject="tls", text="hi"))
    finally:
        await mailer.close()
        controller.stop()
    assert [message["Subject"] for message in sink.messages] == ["tls"]


async def test_smtp_reconnects_after_restart_and_classifies_errors():
    sink = Sink()
    port = free_port()
    settings = MailSettings(
        backend="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    mailer = SmtpMailer(settings)
    with pytest.raises(TransientMailError):
        await mailer.send(MailMessage(to="ann@example.com", subject="down", text="x"))
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await mailer.send(MailMessage(to="ann@example.com", subject="one", text="x"))
        controller.stop()  # the kept-alive connection dies with the server
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        await mailer.send(MailMessage(to="ann@example.com", subject="two", text="x"))
        with pytest.raises(PermanentMailError):
            await mailer.send(MailMessage(to="bounce@example.com", subject="no", text="x"))
        await mailer.send(MailMessage(to="ann@example.com", subject="three", text="x"))
    finally:
        await mailer.close()
        controller.stop()
    assert [message["Subject"] for message in sink.messages] == ["one", "two", "three"]

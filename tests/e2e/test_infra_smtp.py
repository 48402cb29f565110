"""The SMTP sink records real SMTP deliveries and can make them fail temporarily."""

import smtplib
from email.message import EmailMessage

import pytest

from tests.e2e.servers import WaitTimeout

pytestmark = pytest.mark.e2e


def _message(subject: str, to: str = "customer@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Support <support@helpdesk.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Здравствуйте! Ваша заявка принята.")
    return msg


def _send(sink, msg: EmailMessage) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(msg)


def test_sink_records_envelope_raw_bytes_and_parsed_message(smtp_server):
    _send(smtp_server, _message("Заявка [#42] принята"))

    received = smtp_server.wait_for(lambda m: "[#42]" in m.subject, timeout=5)

    assert received.mail_from == "support@helpdesk.test"
    assert received.rcpt_tos == ("customer@example.org",)
    assert b"Subject: =?utf-8?" in received.raw  # the wire form is RFC 2047 encoded
    assert received.subject == "Заявка [#42] принята"
    assert "Ваша заявка принята" in received.text()


def test_fail_next_answers_451_then_accepts(smtp_server):
    smtp_server.fail_next(2)

    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as excinfo:
            _send(smtp_server, _message("retry me"))
        assert excinfo.value.smtp_code == 451
    _send(smtp_server, _message("retry me"))

    assert smtp_server.rejected == 2
    assert [m.subject for m in smtp_server.wait_for_count(1, timeout=5)] == ["retry me"]


def test_wait_for_times_out_with_a_summary_and_clear_forgets(smtp_server):
    _send(smtp_server, _message("first"))
    smtp_server.wait_for(timeout=5)

    with pytest.raises(WaitTimeout, match="1 message"):
        smtp_server.wait_for(lambda m: m.subject == "never sent", timeout=0.3)

    smtp_server.clear()
    assert smtp_server.messages == []

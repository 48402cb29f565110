"""An agent's reply as the customer's mail client sees it: the bytes Django would send, re-parsed."""

import pytest

from mailgateway.models import OutboundEmail
from mailgateway.parsing import parse
from tickets import services as ticket_services
from tickets.attachments import IncomingFile
from tickets.tokens import parse_reply_address

from .mails import PNG, mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def replied(world, ingest, django_capture_on_commit_callbacks, mailoutbox):
    world.technical.signature = "Служба поддержки\n+7 000 000"
    world.technical.save()
    row = ingest(mail(subject="Не работает VPN", message_id="<cust-1@customer.example>", cc="boss@customer.example"))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_services.ticket_reply(
            ticket=row.ticket,
            author=world.tech_agent,
            body_text="Перезагрузите роутер, пожалуйста.",
            files=[IncomingFile("схема.png", PNG)],
        )
    (sent,) = mailoutbox
    return row.ticket, reply, sent, parse(sent.message().as_bytes())


def test_reply_is_from_the_department_with_signed_reply_to(replied):
    ticket, _, _, parsed = replied
    assert parsed.from_email == "support@helpdesk.example" and parsed.from_name == "Technical support"
    assert parse_reply_address(parsed.reply_to[0]) == ticket.number
    assert parsed.to == ["ivan@customer.example"] and parsed.cc == ["boss@customer.example"]


def test_reply_subject_has_reference_and_cyrillic_survives_encoding(replied):
    ticket, _, sent, parsed = replied
    raw = sent.message().as_bytes()
    subject_line = next(line for line in raw.split(b"\n") if line.startswith(b"Subject:"))
    assert subject_line.isascii()  # RFC 2047 encoded, not raw 8-bit
    assert parsed.subject == f"[#{ticket.number}] Не работает VPN"


def test_reply_threads_in_the_customers_mail_client(replied):
    _, reply, _, parsed = replied
    reply.refresh_from_db()
    assert parsed.message_id == reply.message_id
    assert parsed.in_reply_to == ["cust-1@customer.example"]
    assert "cust-1@customer.example" in parsed.references


def test_reply_has_text_html_signature_and_attachment(replied):
    _, _, _, parsed = replied
    assert "Перезагрузите роутер" in parsed.text and "Служба поддержки" in parsed.text
    assert "Перезагрузите роутер" in parsed.html
    assert [(a.filename, a.content) for a in parsed.attachments] == [("схема.png", PNG)]


def test_customer_answer_to_the_reply_threads_back(replied, ingest):
    ticket, _, _, parsed = replied
    answer = ingest(mail(subject="Re: " + parsed.subject, in_reply_to=f"<{parsed.message_id}>", body="Помогло"))
    assert answer.ticket == ticket and answer.action == "appended"


def test_failed_send_is_retried_and_visible_on_the_ticket(world, ingest, settings, django_capture_on_commit_callbacks):
    from django.template.loader import render_to_string

    from mailgateway import outbound, selectors

    settings.EMAIL_BACKEND = "tests.mailgateway.failing_backend.FailingBackend"
    row = ingest(mail())
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_reply(ticket=row.ticket, author=world.tech_agent, body_text="Answer")
    pending = selectors.delivery_status(row.ticket)
    assert {p.kind for p in pending} >= {"agent_reply"}
    failed = next(p for p in pending if p.kind == "agent_reply")
    assert failed.status == "pending" and failed.attempts == 1 and "refused" in failed.last_error
    html = render_to_string("mailgateway/_delivery_status.html", {"undelivered": pending})
    assert "ivan@customer.example" in html and "refused" in html
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundEmail.objects.update(next_attempt_at=failed.created_at)
    for email_id in outbound.due_email_ids():
        outbound.send_now(email_id)
    assert selectors.delivery_status(row.ticket) == []


def test_acknowledgement_is_rendered_when_sent_in_the_customers_language(
    world, ingest, settings, django_capture_on_commit_callbacks, mailoutbox
):
    from mailgateway import outbound

    settings.EMAIL_BACKEND = "tests.mailgateway.failing_backend.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(mail(sender="new@customer.example", subject="Не печатает"))
    queued = OutboundEmail.objects.get(ticket=row.ticket, kind="ticket_created")
    # Queued unrendered by the gateway; the failed first send rendered and stored it.
    assert (queued.template, queued.status, queued.attempts) == ("", "pending", 1)
    assert queued.subject == f"[{row.ticket.reference}] We received your request: Не печатает"
    assert "We have created an account for you" in queued.body_text  # the new customer's claim link
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbound.send_now(queued.pk) == "sent"
    (sent,) = mailoutbox
    assert (sent.subject, sent.body, sent.to) == (queued.subject, queued.body_text, ["new@customer.example"])
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_acknowledgement_row_waits_unrendered_until_sent(world, ingest, mailoutbox):
    from mailgateway import outbound

    row = ingest(mail(subject="Принтер"))  # the send task is not run (no on-commit callbacks)
    queued = OutboundEmail.objects.get(ticket=row.ticket, kind="ticket_created")
    assert (queued.template, queued.language, queued.subject, queued.body_text) == ("ticket_created", "ru", "", "")
    assert queued.message_id_header and queued.references  # threading is decided when queued
    assert outbound.send_now(queued.pk) == "sent"
    (sent,) = mailoutbox
    assert sent.subject == f"[{row.ticket.reference}] Мы получили вашу заявку: Принтер"
    assert "Иван Петров" in sent.body
    queued.refresh_from_db()
    assert (queued.template, queued.subject, queued.status) == ("", sent.subject, "sent")

import pytest

from tests.factories import make_ticket
from tickets import services
from tickets.attachments import IncomingFile
from tickets.choices import Status
from tickets.exceptions import AssignmentNotAllowed, AttachmentRejected, TransferNotAllowed
from tickets.models import Attachment, TicketEvent

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.smoke
def test_create_acknowledges_by_mail_in_the_customers_language(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical, subject="Сервер недоступен")
    assert [m.to for m in sent_mail()] == [[world.customer.email]]
    subject = sent_mail()[0].subject
    assert subject.startswith(f"[{ticket.reference}] ") and subject.endswith("Сервер недоступен")


def test_reply_sends_mail_with_signature_and_thread_headers(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical, message_id="abc@customer.example")
    sent_mail().clear()
    reply = services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Fixed it.")
    sent = sent_mail()[-1]
    assert sent.subject == f"[{ticket.reference}] Help needed"
    assert "Fixed it." in sent.body and world.technical.signature in sent.body
    assert sent.extra_headers["In-Reply-To"] == "<abc@customer.example>"
    assert sent.extra_headers["Message-ID"].strip("<>") == reply.message_id
    assert f"+t{ticket.number}." in sent.reply_to[0]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and ticket.first_response_at and ticket.waiting_since is None


def test_note_is_never_mailed(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical)
    sent_mail().clear()
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="internal: customer is rude")
    assert sent_mail() == []


def test_customer_message_reopens_closed_ticket(world):
    ticket = make_ticket(world.customer, world.technical)
    services.ticket_close(ticket=ticket, actor=world.tech_agent)
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.closed_at is None and ticket.waiting_since
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_assign_only_to_department_agents(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical)
    with pytest.raises(AssignmentNotAllowed):
        services.ticket_assign(ticket=ticket, actor=world.tech_agent, assignee=world.sales_agent)
    services.ticket_assign(ticket=ticket, actor=world.tech_manager, assignee=world.tech_agent)
    ticket.refresh_from_db()
    assert ticket.assignee == world.tech_agent
    assert any(world.tech_agent.email in m.to for m in sent_mail())


def test_transfer_notifies_receiving_agents_and_drops_foreign_assignee(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical)
    services.ticket_assign(ticket=ticket, actor=world.tech_agent, assignee=world.tech_agent)
    sent_mail().clear()
    services.ticket_transfer(ticket=ticket, actor=world.tech_agent, department=world.sales, reason="billing question")
    ticket.refresh_from_db()
    assert ticket.department == world.sales and ticket.assignee is None
    notified = [m for m in sent_mail() if world.sales_agent.email in m.to]
    assert notified and "billing question" in notified[0].body
    with pytest.raises(TransferNotAllowed):
        services.ticket_transfer(ticket=ticket, actor=world.tech_agent, department=world.sales)


def test_attachments_are_sniffed_not_trusted_by_name(world):
    exe = b"MZ\x90\x00" + b"\x00" * 200
    with pytest.raises(AttachmentRejected):
        make_ticket(world.customer, world.technical, files=[IncomingFile("photo.png", exe)])
    ticket = make_ticket(world.customer, world.technical, files=[IncomingFile("скриншот.png", PNG)])
    att = Attachment.objects.get(message__ticket=ticket)
    assert (att.filename, att.content_type, att.size) == ("скриншот.png", "image/png", len(PNG))


def test_pdf_named_png_is_rejected(world):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with pytest.raises(AttachmentRejected, match="contains application/pdf"):
        make_ticket(world.customer, world.technical, files=[IncomingFile("shot.png", pdf)])


def test_identical_files_are_stored_once(world):
    a = make_ticket(world.customer, world.technical, files=[IncomingFile("a.png", PNG)])
    b = make_ticket(world.customer, world.technical, files=[IncomingFile("b.png", PNG)])
    files = Attachment.objects.filter(message__ticket__in=[a, b]).values_list("file", flat=True)
    assert len(set(files)) == 1

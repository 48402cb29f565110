import pytest

from tests.factories import make_ticket
from tests.tickets.test_agent_pages import PNG
from tickets import services
from tickets.attachments import IncomingFile
from tickets.choices import Status
from tickets.models import Attachment, Message, TicketEvent, TicketLink


def test_split_copies_message_and_attachments_into_linked_ticket(world):
    ticket = make_ticket(world.customer, world.technical, subject="Two problems")
    message = services.ticket_customer_message(
        ticket=ticket,
        author=world.customer,
        body_text="Also my invoice is wrong",
        files=[IncomingFile("invoice.png", PNG)],
    )
    new = services.ticket_split(
        ticket=ticket,
        message=message,
        actor=world.tech_agent,
        department=world.sales,
        subject="Invoice wrong",
    )
    assert (new.customer, new.department, new.subject, new.status) == (
        world.customer,
        world.sales,
        "Invoice wrong",
        Status.NEW,
    )
    copy = new.messages.get()
    assert copy.body_text == message.body_text and copy.kind == Message.Kind.CUSTOMER
    assert copy.author == world.customer and copy.created_at == message.created_at
    attachment = copy.attachments.get()
    original = message.attachments.get()
    assert attachment.pk != original.pk and attachment.file.name == original.file.name
    assert attachment.file.read() == PNG
    # The original keeps its message (copied, not moved) and both tickets are linked and logged.
    assert ticket.messages.filter(pk=message.pk).exists() and Attachment.objects.count() == 2
    assert TicketLink.objects.filter(source=new, target=ticket, kind=TicketLink.Kind.SPLIT).exists()
    assert ticket.events.get(kind=TicketEvent.Kind.SPLIT).data["into"] == new.number
    assert new.events.get(kind=TicketEvent.Kind.SPLIT).data["origin"] == ticket.number
    assert new.waiting_since == message.created_at


def test_split_refuses_a_message_of_another_ticket(world):
    ticket = make_ticket(world.customer, world.technical)
    other = make_ticket(world.customer, world.technical)
    with pytest.raises(services.SplitNotAllowed):
        services.ticket_split(
            ticket=ticket, message=other.messages.get(), actor=world.tech_agent, department=world.technical
        )

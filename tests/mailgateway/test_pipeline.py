"""The inbound pipeline, store -> claim -> parse -> route -> tickets.services, on real PostgreSQL."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from departments.models import Department, RoutingRule
from mailgateway import services, tasks
from mailgateway.models import InboundEmail, OutboundEmail
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import Attachment, Message, Participant, Ticket, TicketEvent, TicketLink
from tickets.tokens import reply_address

from .mails import ELF, MZ, PNG, bounce_for, fixture, mail

pytestmark = pytest.mark.django_db


def test_mail_to_support_creates_ticket_for_new_customer(world, ingest):
    row = ingest(mail(sender="new.person@example.org", sender_name="New Person", subject="VPN down"))
    ticket = Ticket.objects.get()
    assert (row.status, row.action, row.ticket) == ("processed", "created", ticket)
    assert ticket.department == world.technical and ticket.subject == "VPN down"
    assert ticket.customer.email == "new.person@example.org"
    assert ticket.customer.display_name == "New Person"
    assert not ticket.customer.has_usable_password()
    assert ticket.channel == "email"
    assert ticket.messages.get().body_text.startswith("Hello, the printer")


def test_cyrillic_sender_gets_russian_account(world, ingest):
    ingest(mail(sender="olga@example.ru", subject="Не работает почта", body="Здравствуйте, почта не работает."))
    assert Ticket.objects.get().customer.language == "ru"


def test_same_message_twice_is_one_ticket(world, ingest):
    raw = mail(message_id="<dup-1@customer.example>")
    first = ingest(raw)
    second_row, created = services.store_raw(raw, source="imap:1")
    assert not created and second_row.pk == first.pk
    assert services.process_inbound(first.pk) is None  # already processed: nothing happens
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_same_message_without_message_id_is_deduplicated_by_content(world, ingest):
    raw = mail(message_id="")
    assert b"Message-ID" not in raw
    ingest(raw)
    ingest(raw)
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.get().dedupe_key.startswith("sha256:")


def test_worker_killed_between_storing_and_processing_loses_nothing(world):
    # Storing commits on its own; a worker that dies before processing leaves a `received` row.
    row, _ = services.store_raw(mail(subject="Stored, never processed"), source="pipe")
    assert Ticket.objects.count() == 0
    assert tasks.process_pending_inbound() == 0  # too fresh: its own task may still be coming
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert tasks.process_pending_inbound() == 1
    row.refresh_from_db()
    assert row.status == "processed"
    assert Ticket.objects.get().subject == "Stored, never processed"


def test_koi8r_body_without_charset_label(world, ingest):
    row = ingest(fixture("koi8r_no_charset.eml"))
    ticket = Ticket.objects.get()
    assert ticket.subject == "Не работает принтер"
    assert "У нас в бухгалтерии не работает принтер" in ticket.messages.get().body_text
    assert ticket.customer.display_name == "Пётр Сидоров"
    assert ticket.customer.language == "ru"
    assert row.subject == "Не работает принтер"


def test_split_encoded_word_subject_in_two_charsets(world, ingest):
    ingest(fixture("subject_two_charsets.eml"))
    assert Ticket.objects.get().subject == "Ноутбук сломался"


# --- threading -----------------------------------------------------------------------------------


def test_reply_with_only_the_subject_tag_threads(world, ingest):
    ticket = make_ticket(world.customer, world.technical, subject="Принтер")
    ingest(mail(subject=f"Ответ: RE: AW: [#{ticket.number}] Принтер", body="Still broken"))
    assert Ticket.objects.count() == 1
    assert ticket.messages.last().body_text.startswith("Still broken")


def test_reply_by_in_reply_to_our_message_id_threads(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    reply = ticket_services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Try again")
    sent = OutboundEmail.objects.get(message=reply)
    row = ingest(mail(subject="no tag here", in_reply_to=sent.message_id_header, body="Tried"))
    assert row.action == "appended" and row.ticket == ticket
    assert ticket.messages.filter(kind="customer").count() == 2


def test_reply_by_references_to_customers_own_message_threads(world, ingest):
    first = ingest(mail(message_id="<orig-77@customer.example>", subject="Disk full"))
    ingest(mail(subject="Also", references="<unknown@x> <orig-77@customer.example>"))
    assert Ticket.objects.count() == 1 and first.ticket.messages.count() == 2


def test_reply_to_signed_reply_address_threads(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    address = reply_address(world.technical.from_email, ticket.number)
    row = ingest(mail(to=address, subject="Totally different subject"))
    assert row.ticket == ticket and Ticket.objects.count() == 1


def test_forged_reply_address_does_not_thread(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(to=f"support+t{ticket.number}.0000000000000000@helpdesk.example", subject="Hi"))
    assert row.action == "created" and row.ticket != ticket


def test_mail_to_merged_ticket_goes_to_the_surviving_ticket(world, ingest):
    old = make_ticket(world.customer, world.technical)
    target = make_ticket(world.customer, world.technical)
    Ticket.objects.filter(pk=old.pk).update(merged_into=target)
    row = ingest(mail(subject=f"Re: [#{old.number}] Help needed"))
    assert row.ticket == target


# --- reopen ---------------------------------------------------------------------------------------


def test_reply_to_closed_ticket_reopens_it(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    ticket_services.ticket_close(ticket=ticket, actor=world.tech_agent)
    ingest(mail(subject=f"Re: [#{ticket.number}] Help needed", body="It broke again"))
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_reply_to_long_closed_ticket_opens_linked_follow_up(world, ingest, settings):
    settings.HELPDESK_REOPEN_MAX_AGE_DAYS = 30
    ticket = make_ticket(world.customer, world.technical)
    ticket_services.ticket_close(ticket=ticket, actor=world.tech_agent)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        row = ingest(mail(subject=f"Re: [#{ticket.number}] Help needed", body="Again, months later"))
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert row.action == "created" and row.ticket != ticket
    assert TicketLink.objects.filter(source=row.ticket, target=ticket, kind="follow_up").exists()


# --- routing --------------------------------------------------------------------------------------


def test_routing_by_delivered_to_before_to(world, ingest):
    raw = mail(to="support@helpdesk.example", headers={"Delivered-To": "sales@helpdesk.example"})
    assert ingest(raw).department == world.sales


def test_routing_by_cc_address(world, ingest):
    row = ingest(mail(to="someone@else.example", cc="sales@helpdesk.example"))
    assert row.department == world.sales
    assert not Participant.objects.filter(email="sales@helpdesk.example").exists()


def test_routing_rules_then_triage(world, ingest):
    RoutingRule.objects.create(department=world.sales, kind="sender_domain", value="bigcorp.example")
    RoutingRule.objects.create(department=world.technical, kind="subject_keyword", value="outage")
    by_domain = ingest(mail(sender="ceo@mail.bigcorp.example", to="info@elsewhere.example"))
    by_keyword = ingest(mail(sender="x@y.example", to="info@elsewhere.example", subject="Big OUTAGE today"))
    unknown = ingest(mail(sender="z@y.example", to="info@elsewhere.example", subject="Hello"))
    assert by_domain.department == world.sales
    assert by_keyword.department == world.technical
    assert unknown.department == world.triage


def test_routing_ignores_inactive_department_address(world, ingest):
    Department.objects.filter(pk=world.sales.pk).update(is_active=False)
    assert ingest(mail(to="sales@helpdesk.example")).department == world.triage


# --- strangers, participants ----------------------------------------------------------------------


def test_reply_from_stranger_is_held_not_appended(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="mallory@evil.example", subject=f"Re: [#{ticket.number}] Help needed"))
    assert (row.status, row.action, row.ticket) == ("held", "held", ticket)
    assert ticket.messages.count() == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.MAIL_HELD, data__inbound=row.pk).exists()


def test_accepting_held_mail_appends_it_and_trusts_the_sender(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="colleague@customer.example", subject=f"Re: [#{ticket.number}] Help needed"))
    services.accept_held(row.pk, actor=world.tech_agent)
    row.refresh_from_db()
    assert (row.status, row.action) == ("processed", "appended")
    assert ticket.messages.last().author.email == "colleague@customer.example"
    assert ticket.participants.filter(email="colleague@customer.example").exists()
    ticket.refresh_from_db()
    assert ticket.customer == world.customer
    again = ingest(mail(sender="colleague@customer.example", subject=f"Re: [#{ticket.number}] more"))
    assert again.action == "appended"


def test_rejecting_held_mail_makes_a_new_ticket(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="mallory@evil.example", subject=f"Re: [#{ticket.number}] Help needed"))
    services.reject_held(row.pk, actor=world.tech_agent)
    row.refresh_from_db()
    assert row.action == "created" and row.ticket != ticket
    assert row.ticket.customer.email == "mallory@evil.example"
    assert ticket.messages.count() == 1


def test_cc_become_participants_and_their_replies_thread(world, ingest):
    first = ingest(mail(cc="boss@customer.example, Support <support@helpdesk.example>"))
    ticket = first.ticket
    assert list(ticket.participants.values_list("email", flat=True)) == ["boss@customer.example"]
    reply = ingest(mail(sender="boss@customer.example", subject=f"Re: [#{ticket.number}] x", cc="new@customer.example"))
    assert reply.action == "appended" and reply.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.customer == world.customer  # a participant never replaces the customer
    assert set(ticket.participants.values_list("email", flat=True)) == {"boss@customer.example", "new@customer.example"}


def test_agent_reply_goes_to_participants_as_cc(world, ingest, django_capture_on_commit_callbacks, mailoutbox):
    row = ingest(mail(cc="boss@customer.example"))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_reply(ticket=row.ticket, author=world.tech_agent, body_text="Fixed")
    reply = [m for m in mailoutbox if "Fixed" in m.body][0]
    assert reply.to == ["ivan@customer.example"] and reply.cc == ["boss@customer.example"]


# --- noise ----------------------------------------------------------------------------------------


def test_out_of_office_is_recorded_not_answered(world, ingest, django_capture_on_commit_callbacks):
    ticket = make_ticket(world.customer, world.technical)
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(
            mail(subject=f"Automatic reply: [#{ticket.number}] Help needed", headers={"Auto-Submitted": "auto-replied"})
        )
    assert (row.action, row.ticket) == ("ignored_autoreply", ticket)
    assert ticket.messages.count() == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.AUTO_REPLY).count() == 1
    assert not OutboundEmail.objects.filter(kind="customer_replied").exists()


def test_out_of_office_fixture_never_creates_a_ticket(world, ingest):
    row = ingest(fixture("ooo_russian_outlook.eml"))
    assert row.action == "ignored_autoreply" and Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


def test_bounce_is_recorded_on_the_ticket_of_the_bounced_mail(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    sent = OutboundEmail.objects.get(ticket=ticket, kind="ticket_created")
    row = ingest(bounce_for(sent.message_id_header, sent.subject))
    assert (row.action, row.ticket) == ("bounce", ticket)
    assert ticket.events.filter(kind=TicketEvent.Kind.BOUNCE).exists()
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 1


def test_bounce_for_unknown_mail_is_ignored_quietly(world, ingest):
    row = ingest(bounce_for("<nothing@nowhere>", "Unknown"))
    assert (row.action, row.ticket, row.status) == ("bounce", None, "processed")
    assert Ticket.objects.count() == 0


def test_our_own_mail_coming_back_is_ignored(world, ingest):
    ticket = make_ticket(world.customer, world.technical)
    sent = OutboundEmail.objects.get(ticket=ticket)
    echoed = ingest(mail(sender="someone@list.example", message_id=sent.message_id_header, subject="echo"))
    from_us = ingest(mail(sender="support@helpdesk.example", subject="loop"))
    assert echoed.action == from_us.action == "ignored_autoreply"
    assert Ticket.objects.count() == 1


def test_acknowledgements_to_one_sender_are_rate_limited(world, ingest, settings):
    settings.HELPDESK_ACK_PER_HOUR = 2
    for n in range(4):
        ingest(mail(sender="flood@example.org", subject=f"Request {n}"))
    assert Ticket.objects.count() == 4  # every mail is still a ticket...
    assert OutboundEmail.objects.filter(kind="ticket_created").count() == 2  # ...but only 2 acks


# --- attachments ----------------------------------------------------------------------------------


def test_allowed_attachment_and_inline_image_are_stored(world, ingest):
    raw = mail(
        html='<p>See <img src="cid:shot1@x"></p>',
        attachments=[("notes.txt", b"plain text notes\n", "text/plain")],
        inline=[("shot.png", PNG, "image/png", "shot1@x")],
    )
    row = ingest(raw)
    atts = {a.filename: a for a in Attachment.objects.all()}
    assert set(atts) == {"notes.txt", "shot.png"}
    assert atts["shot.png"].is_inline and atts["shot.png"].content_id == "shot1@x"
    assert atts["shot.png"].content_type == "image/png"
    assert sorted(row.attachments) == ["notes.txt", "shot.png"] and row.dropped == []


def test_disguised_executable_is_dropped_and_noted(world, ingest):
    raw = mail(attachments=[("invoice.png", MZ, "image/png"), ("photo.jpg", ELF, "image/jpeg"), ("ok.png", PNG, "image/png")])
    row = ingest(raw)
    assert row.attachments == ["ok.png"]
    assert [d["filename"] for d in row.dropped] == ["invoice.png", "photo.jpg"]
    assert "invoice.png" in row.dropped[0]["reason"]
    body = row.message.body_text
    assert "invoice.png" in body and "photo.jpg" in body
    assert list(Attachment.objects.values_list("filename", flat=True)) == ["ok.png"]


def test_attachment_over_the_size_limit_is_dropped(world, ingest, settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    row = ingest(mail(attachments=[("scan.pdf", big, "application/pdf")]))
    assert row.action == "created"
    assert row.dropped[0]["filename"] == "scan.pdf" and "larger than" in row.dropped[0]["reason"]
    assert not Attachment.objects.exists()
    assert "scan.pdf" in row.message.body_text


# --- quarantine -----------------------------------------------------------------------------------


def test_unprocessable_mail_is_quarantined_with_raw_kept_and_can_be_retried(world, ingest):
    Department.objects.update(is_active=False)  # no department can take the mail: processing fails
    raw = mail(subject="Nobody home")
    row = ingest(raw)
    assert row.status == "quarantined" and row.action == "quarantined"
    assert "department" in row.error.lower()
    assert bytes(row.raw) == raw
    assert Ticket.objects.count() == 0
    Department.objects.filter(pk=world.triage.pk).update(is_active=True)  # the fix
    services.retry_quarantined(row.pk)
    row.refresh_from_db()
    assert (row.status, row.action, row.error) == ("processed", "created", "")
    assert row.ticket.department == world.triage


def test_mail_without_sender_is_quarantined(world, ingest):
    row = ingest(b"To: support@helpdesk.example\r\nSubject: anonymous\r\nMessage-ID: <anon@x>\r\n\r\nhi\r\n")
    assert row.status == "quarantined" and "sender" in row.error


def test_same_message_through_two_routes_is_one_ticket(world, ingest):
    raw = mail(message_id="<two-routes@customer.example>", to="support@helpdesk.example, sales@helpdesk.example")
    ingest(b"Delivered-To: support@helpdesk.example\r\nReceived: from a by b\r\n" + raw)
    second = ingest(b"Delivered-To: sales@helpdesk.example\r\nReceived: from c by d\r\n" + raw)
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1
    assert second.department == world.technical  # routed by the first delivery


def test_reused_message_id_from_another_sender_is_not_swallowed(world, ingest):
    ingest(mail(sender="a@example.org", message_id="<reused@broken.example>", subject="First"))
    ingest(mail(sender="b@example.org", message_id="<reused@broken.example>", subject="Second"))
    assert set(Ticket.objects.values_list("subject", flat=True)) == {"First", "Second"}


@pytest.mark.django_db(transaction=True)
def test_store_raw_outside_a_transaction_is_a_single_idempotent_insert(world, django_assert_num_queries):
    from django.db import connection

    assert not connection.in_atomic_block  # the production path (pipe, IMAP, webhook)
    raw = mail(message_id="<fast-1@customer.example>")
    with django_assert_num_queries(1):
        row, created = services.store_raw(raw, source="pipe")
    again, created_again = services.store_raw(raw, source="imap:9")
    assert created and not created_again and again.pk == row.pk
    stored = InboundEmail.objects.get()
    assert bytes(stored.raw) == raw and stored.source == "pipe" and stored.status == "received"
    assert stored.message_id_header == "fast-1@customer.example" and stored.size == len(raw)
    assert services.process_inbound(row.pk).action == "created"


def test_bounce_marks_our_mail_undelivered_on_the_ticket(world, ingest, django_capture_on_commit_callbacks):
    from mailgateway import selectors

    ticket = make_ticket(world.customer, world.technical)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Answer")
    sent = OutboundEmail.objects.get(message=reply)
    assert sent.status == "sent"
    ingest(bounce_for(sent.message_id_header, sent.subject))
    sent.refresh_from_db()
    assert sent.status == "bounced" and "mailbox full" in sent.last_error
    assert sent in selectors.delivery_status(ticket)


def test_receive_many_stores_a_chunk_at_once_and_queues_one_task_per_batch(world, settings, django_capture_on_commit_callbacks):
    """The IMAP poller's chunk: duplicates and an empty message neither fail nor stop the others, and
    the queued tasks (one per HELPDESK_INBOUND_BATCH new rows) process every stored mail."""
    settings.HELPDESK_INBOUND_BATCH = 2
    first = mail(subject="One", message_id="<one@customer.example>")
    raws = [first, b"", first, mail(subject="Two"), mail(subject="Three")]
    with django_capture_on_commit_callbacks() as queued:
        results = services.receive_many(raws, source="imap:test")
    assert [created for _, created in results] == [True, False, False, True, True]
    assert results[1][0] is None and results[2][0].pk == results[0][0].pk
    assert len(queued) == 2  # for rows 1 and 3 of the three new ones
    with django_capture_on_commit_callbacks(execute=True):
        for task in queued:
            task()
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["One", "Three", "Two"]
    assert not InboundEmail.objects.exclude(status="processed").exists()


def test_mail_a_chunk_leaves_behind_is_processed_without_waiting_for_the_sweep(world, settings, django_capture_on_commit_callbacks):
    """Older mail still waiting (a task lost with the broker, say) takes places in the chunk's batches:
    a follow-up task, queued while anything waits, processes what they left, not the sweep minutes later."""
    settings.HELPDESK_INBOUND_BATCH = 3
    older = [services.store_raw(mail(subject=f"Older {i}"), source="pipe")[0] for i in range(3)]
    with django_capture_on_commit_callbacks() as queued:
        services.receive_many([mail(subject=f"New {i}") for i in range(4)], source="imap:test")
    assert len(queued) == 2
    with django_capture_on_commit_callbacks(execute=True):
        for task in queued:
            task()
    assert not InboundEmail.objects.filter(status="received").exists()
    assert Ticket.objects.count() == 7 and all(row.pk for row in older)

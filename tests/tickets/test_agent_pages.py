"""The agent's ticket page and its actions, through the views (access control included)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ProductFactory, make_ticket
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import Message, Ticket, TicketEvent

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def url(name, ticket, *args):
    return reverse(name, args=[ticket.number, *args])


@pytest.fixture
def ticket(world):
    return make_ticket(world.customer, world.technical, subject="VPS down", body="My server does not respond")


@pytest.fixture
def agent(world, client_for):
    return client_for(world.tech_agent)


def test_ticket_page_shows_whole_conversation_notes_events_and_attachments(world, agent, ticket):
    services.ticket_customer_message(
        ticket=ticket,
        author=world.customer,
        body_text="Screenshot attached\n\nOn Mon, 1 Jan 2024, Support wrote:\n> old quoted text",
        files=[services_file("shot.png", PNG)],
    )
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="Looks like the disk is full")
    services.ticket_set_priority(ticket=ticket, actor=world.tech_agent, priority=Priority.HIGH)
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    assert "My server does not respond" in page
    assert 'class="msg msg-note"' in page and "Looks like the disk is full" in page
    assert "Priority: Normal → High" in page
    assert '<img class="preview"' in page and "shot.png" in page
    assert '<details class="msg-quoted">' in page and "old quoted text" in page
    assert (
        page.index("My server does not respond")
        < page.index("Screenshot attached")
        < page.index("disk is full")
    )


def services_file(name, data):
    from tickets.attachments import IncomingFile

    return IncomingFile(filename=name, data=data)


def test_reply_sends_mail_with_attachment_and_cc_and_sets_pending(world, agent, ticket, sent_mail):
    sent_mail().clear()
    response = agent.post(
        url("agent_reply", ticket),
        {
            "body": "Please reboot it.",
            "status": Status.PENDING,
            "cc": "boss@customer.example",
            "files": [SimpleUploadedFile("howto.png", PNG)],
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    sent = sent_mail()[-1]
    assert sent.to == [world.customer.email] and sent.cc == ["boss@customer.example"]
    assert "Please reboot it." in sent.body and [a[0] for a in sent.attachments] == ["howto.png"]


def test_reply_can_leave_the_ticket_open(world, agent, ticket):
    agent.post(url("agent_reply", ticket), {"body": "Looking into it", "status": Status.OPEN})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.messages.filter(kind="reply").count() == 1


def test_reply_with_invalid_cc_is_refused(world, agent, ticket):
    response = agent.post(
        url("agent_reply", ticket), {"body": "x", "status": Status.OPEN, "cc": "not-an-address"}
    )
    assert response.status_code == 400 and "not a valid email address" in response.content.decode()
    assert not ticket.messages.filter(kind="reply").exists()


def test_htmx_reply_returns_the_new_message_out_of_band(world, agent, ticket):
    response = agent.post(
        url("agent_reply", ticket), {"body": "Via htmx", "status": Status.PENDING}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert (
        response.status_code == 200 and 'hx-swap-oob="beforeend:#conversation"' in html and "Via htmx" in html
    )
    assert 'id="reply-form"' in html


def test_internal_note_never_reaches_the_customer(world, agent, ticket, client_for, sent_mail):
    sent_mail().clear()
    agent.post(url("agent_note", ticket), {"body": "SECRET internal remark"})
    agent.post(url("agent_reply", ticket), {"body": "Public answer", "status": Status.PENDING})
    assert ticket.messages.filter(kind="note", body_text="SECRET internal remark").exists()
    cabinet = client_for(world.customer).get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    assert "Public answer" in cabinet and "SECRET" not in cabinet
    for message in sent_mail():
        assert "SECRET" not in message.body
        assert all("SECRET" not in str(alt[0]) for alt in getattr(message, "alternatives", []))


def test_note_mention_notifies_the_agent_by_email(world, agent, ticket, sent_mail):
    sent_mail().clear()
    agent.post(url("agent_note", ticket), {"body": "@boss please look, and @nobody"})
    mails = sent_mail()
    assert [m.to for m in mails] == [[world.tech_manager.email]]
    assert "please look" in mails[0].body and world.customer.email not in mails[0].to


def test_take_assign_unassign(world, agent, ticket):
    agent.post(url("agent_take", ticket))
    ticket.refresh_from_db()
    assert ticket.assignee == world.tech_agent
    agent.post(url("agent_assign", ticket), {"assignee": world.tech_manager.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == world.tech_manager
    agent.post(url("agent_assign", ticket), {"assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assign_to_agent_of_other_department_is_refused(world, agent, ticket):
    response = agent.post(
        url("agent_assign", ticket), {"assignee": world.sales_agent.pk}, HTTP_HX_REQUEST="true"
    )
    ticket.refresh_from_db()
    assert ticket.assignee is None and "form-error" in response.content.decode()


def test_htmx_take_returns_the_meta_panel(world, agent, ticket):
    response = agent.post(url("agent_take", ticket), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Anna Tech" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_status_priority_subject_product(world, agent, ticket):
    product = ProductFactory(name="VPS M")
    agent.post(url("agent_status", ticket), {"status": Status.RESOLVED})
    agent.post(url("agent_priority", ticket), {"priority": Priority.URGENT})
    agent.post(url("agent_details", ticket), {"subject": "VPS M down", "product": product.pk})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.subject, ticket.product) == (
        Status.RESOLVED,
        Priority.URGENT,
        "VPS M down",
        product,
    )
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    assert "Subject: “VPS down” → “VPS M down”" in page and "Product: — → VPS M" in page


def test_transfer_with_reason_notifies_receiving_department(world, agent, ticket, sent_mail):
    sent_mail().clear()
    response = agent.post(
        url("agent_transfer", ticket), {"department": world.sales.pk, "reason": "Billing question"}
    )
    assert response.status_code == 302 and response.url == reverse("agent_queue")
    ticket.refresh_from_db()
    assert ticket.department == world.sales
    mails = sent_mail()
    assert [m.to for m in mails] == [[world.sales_agent.email]] and "Billing question" in mails[0].body
    # It left the first department: the tech agent no longer sees it anywhere.
    assert agent.get(url("agent_ticket", ticket)).status_code == 404
    assert f'value="{ticket.number}"' not in agent.get(reverse("agent_queue")).content.decode()


def test_transfer_without_reason_is_refused(world, agent, ticket):
    response = agent.post(url("agent_transfer", ticket), {"department": world.sales.pk, "reason": ""})
    ticket.refresh_from_db()
    assert response.status_code == 400 and ticket.department == world.technical


def test_departed_agents_reply_shows_his_name_marked(world, agent, ticket):
    services.ticket_reply(ticket=ticket, author=world.departed_agent, body_text="Restarted nginx")
    services.ticket_assign(ticket=ticket, actor=world.departed_agent, assignee=world.departed_agent)
    world.departed_agent.is_active = False
    world.departed_agent.save()
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    assert "Boris Gone" in page and "former staff" in page and "Restarted nginx" in page


def test_split_page_creates_linked_ticket(world, agent, ticket):
    message = ticket.messages.get()
    response = agent.post(
        url("agent_split", ticket, message.pk),
        {"department": world.technical.pk, "subject": "Second problem"},
    )
    new = Ticket.objects.get(subject="Second problem")
    assert response.status_code == 302 and response.url == reverse("agent_ticket", args=[new.number])
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    assert f'Split into <a href="{reverse("agent_ticket", args=[new.number])}"' in page


def test_merge_and_undo_through_the_pages(world, agent, ticket):
    other = make_ticket(world.customer, world.technical, subject="Still down", body="Hello again")
    assert other.reference in agent.get(url("agent_merge", ticket)).content.decode()
    response = agent.post(url("agent_merge", other), {"target": ticket.pk})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.merged_into == ticket and other.status == Status.CLOSED
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    assert "Hello again" in page and "Undo merge" in page
    event = ticket.events.get(kind=TicketEvent.Kind.MERGED)
    agent.post(url("agent_unmerge", ticket, event.pk))
    other.refresh_from_db()
    assert other.merged_into is None and other.messages.get().body_text == "Hello again"


def test_merge_refuses_other_customers_ticket(world, agent, ticket):
    stranger = make_ticket(world.other_customer, world.technical)
    response = agent.post(url("agent_merge", ticket), {"target": stranger.pk})
    ticket.refresh_from_db()
    assert response.status_code == 200 and ticket.merged_into is None


# --- Collision detection -------------------------------------------------------------------------


def test_reply_warns_when_a_customer_message_arrived_meanwhile(world, agent, ticket, sent_mail):
    page = agent.get(url("agent_ticket", ticket)).content.decode()
    last_seen = ticket.messages.get().pk
    assert f'name="last_seen" value="{last_seen}"' in page
    services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="Never mind, it works now"
    )
    sent_mail().clear()
    data = {"body": "Rebooting your server", "status": Status.PENDING, "last_seen": last_seen}
    response = agent.post(url("agent_reply", ticket), data)
    html = response.content.decode()
    assert (
        response.status_code == 409 and "New messages arrived" in html and "Never mind, it works now" in html
    )
    assert not ticket.messages.filter(kind="reply").exists() and sent_mail() == []
    assert 'name="confirm" value="1"' in html
    data["confirm"] = "1"
    assert agent.post(url("agent_reply", ticket), data).status_code == 302
    assert ticket.messages.filter(kind="reply").exists()


def test_own_and_internal_messages_are_no_collision(world, agent, ticket):
    last_seen = ticket.messages.get().pk
    services.ticket_note(ticket=ticket, author=world.tech_manager, body_text="note")
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="mine", status=Status.OPEN)
    response = agent.post(
        url("agent_reply", ticket), {"body": "again", "status": "open", "last_seen": last_seen}
    )
    assert response.status_code == 302


def test_presence_shows_who_else_is_viewing_and_replying(world, client_for, ticket):
    manager = client_for(world.tech_manager)
    manager.post(url("agent_presence", ticket), {"mode": "replying"})
    html = client_for(world.tech_agent).get(url("agent_ticket", ticket)).content.decode()
    assert "Данила Менеджер is replying to this ticket." in html
    response = manager.post(url("agent_presence", ticket), {"mode": "viewing"})
    assert "Anna Tech просматривает эту заявку." in response.content.decode()  # the manager reads Russian
    client_for(world.tech_agent).post(url("agent_presence", ticket), {"mode": "leave"})
    assert "Anna Tech" not in manager.post(url("agent_presence", ticket)).content.decode()


# --- Polling --------------------------------------------------------------------------------------


def test_poll_reports_newest_customer_message_of_visible_tickets_only(world, client_for, ticket):
    agent = client_for(world.tech_agent)
    first = agent.get(reverse("agent_poll")).json()
    assert first["latest"] == ticket.messages.get().pk and first["number"] == ticket.number
    sales_ticket = make_ticket(world.customer, world.sales)
    assert agent.get(reverse("agent_poll")).json()["latest"] == first["latest"]
    assert client_for(world.sales_agent).get(reverse("agent_poll")).json()["number"] == sales_ticket.number
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="mine")
    assert agent.get(reverse("agent_poll"), {"ticket": ticket.number}).json()["latest"] == first["latest"]
    reply = services.ticket_reply(ticket=ticket, author=world.tech_manager, body_text="colleague")
    assert agent.get(reverse("agent_poll"), {"ticket": ticket.number}).json()["latest"] == reply.pk
    assert agent.get(reverse("agent_poll"), {"ticket": sales_ticket.number}).json() == {"latest": 0}


def test_poll_is_one_query(world, client_for, ticket, django_assert_num_queries):
    agent = client_for(world.tech_agent)
    agent.get(reverse("agent_poll"))
    # session + user + the marker query
    with django_assert_num_queries(3):
        agent.get(reverse("agent_poll"))
    with django_assert_num_queries(3):
        agent.get(reverse("agent_poll"), {"ticket": ticket.number})


# --- Access control ---------------------------------------------------------------------------------


def test_sales_agent_gets_404_on_every_endpoint_of_a_technical_ticket(world, client_for, ticket):
    services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="file", files=[services_file("a.png", PNG)]
    )
    attachment = ticket.messages.last().attachments.get()
    other = make_ticket(world.customer, world.technical)
    sales = client_for(world.sales_agent)
    message = ticket.messages.first()
    gets = [
        url("agent_ticket", ticket),
        url("agent_split", ticket, message.pk),
        url("agent_merge", ticket),
        reverse("attachment", args=[attachment.pk]),
    ]
    for target in gets:
        assert sales.get(target).status_code == 404, target
    posts = {
        url("agent_reply", ticket): {"body": "x", "status": "open"},
        url("agent_note", ticket): {"body": "x"},
        url("agent_take", ticket): {},
        url("agent_assign", ticket): {"assignee": world.sales_agent.pk},
        url("agent_status", ticket): {"status": "closed"},
        url("agent_priority", ticket): {"priority": 4},
        url("agent_details", ticket): {"subject": "hacked"},
        url("agent_transfer", ticket): {"department": world.sales.pk, "reason": "mine now"},
        url("agent_split", ticket, message.pk): {"department": world.sales.pk, "subject": "x"},
        url("agent_merge", ticket): {"target": other.pk},
        url("agent_merge", other): {"target": ticket.pk},
        url("agent_presence", ticket): {"mode": "viewing"},
    }
    for target, data in posts.items():
        assert sales.post(target, data).status_code == 404, target
    ticket.refresh_from_db()
    assert (ticket.department, ticket.status, ticket.subject, ticket.assignee) == (
        world.technical,
        Status.NEW,
        "VPS down",
        None,
    )
    assert ticket.messages.count() == 2 and Ticket.objects.count() == 2


def test_sales_agent_cannot_unmerge_or_insert_canned_on_technical_ticket(world, client_for, ticket):
    from tickets.models import CannedResponse

    other = make_ticket(world.customer, world.technical)
    event = services.ticket_merge(source=other, target=ticket, actor=world.tech_agent)
    canned = CannedResponse.objects.create(title="Hi", body="Hi", department=world.technical)
    sales = client_for(world.sales_agent)
    assert sales.post(url("agent_unmerge", ticket, event.pk)).status_code == 404
    assert sales.get(url("agent_canned_insert", ticket, canned.pk)).status_code == 404
    assert Ticket.objects.get(pk=other.pk).merged_into == ticket


def test_customers_get_404_on_agent_pages(world, client_for, ticket):
    customer = client_for(world.customer)
    for target in [
        reverse("agent_queue"),
        reverse("agent_department_queue", args=["technical"]),
        url("agent_ticket", ticket),
        reverse("agent_poll"),
        reverse("agent_canned_list"),
    ]:
        assert customer.get(target).status_code == 404, target
    assert customer.post(url("agent_reply", ticket), {"body": "x", "status": "open"}).status_code == 404
    assert (
        customer.post(reverse("agent_bulk"), {"tickets": [ticket.number], "action": "assign_me"}).status_code
        == 404
    )


def test_anonymous_is_sent_to_login(client, ticket):
    response = client.get(url("agent_ticket", ticket))
    assert response.status_code == 302 and "/login/" in response.url


# --- Query counts ----------------------------------------------------------------------------------


def _grow(ticket, world, n):
    for i in range(n):
        services.ticket_customer_message(
            ticket=ticket,
            author=world.customer,
            body_text=f"msg {i}",
            files=[services_file(f"f{i}.png", PNG)],
        )
        services.ticket_reply(
            ticket=ticket, author=world.tech_agent, body_text=f"reply {i}", status=Status.OPEN
        )
        services.ticket_note(ticket=ticket, author=world.departed_agent, body_text=f"note {i}")
        services.ticket_set_priority(ticket=ticket, actor=world.tech_agent, priority=1 + i % 4)
        services.ticket_assign(
            ticket=ticket, actor=world.tech_agent, assignee=[world.tech_agent, world.tech_manager][i % 2]
        )


def _count_queries(client, target):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(target)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx.captured_queries)


def test_ticket_page_query_count_is_independent_of_conversation_length(world, client_for):
    agent = client_for(world.tech_agent)
    small = make_ticket(world.customer, world.technical, subject="small")
    big = make_ticket(world.customer, world.technical, subject="big")
    _grow(small, world, 2)
    _grow(big, world, 17)  # 50+ messages
    assert Message.objects.filter(ticket=big).count() > 50
    few, many = (
        _count_queries(agent, url("agent_ticket", small)),
        _count_queries(agent, url("agent_ticket", big)),
    )
    assert few == many, (few, many)
    print("ticket page queries:", few)


def test_workspace_speaks_russian_to_russian_agents(world, client_for, ticket):
    manager = client_for(world.tech_manager)  # language="ru"
    page = manager.get(url("agent_ticket", ticket)).content.decode()
    assert "Взять себе" in page and "Отправить ответ" in page and "Внутренняя заметка" in page
    queue = manager.get(reverse("agent_queue")).content.decode()
    assert "Без исполнителя" in queue and "Ждут клиента" in queue


def test_queue_signal_only_scans_the_newest_messages(world, client_for, ticket, monkeypatch):
    from tickets import agent_selectors

    agent = client_for(world.tech_agent)
    mine = agent.get(reverse("agent_poll")).json()["latest"]
    monkeypatch.setattr(agent_selectors, "ACTIVITY_WINDOW", 2)
    for _ in range(2):
        make_ticket(world.other_customer, world.sales, acknowledge=False)
    assert agent.get(reverse("agent_poll")).json() == {"latest": 0}  # ours fell out of the window
    newer = services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="new")
    assert agent.get(reverse("agent_poll")).json()["latest"] == newer.pk > mine


def test_htmx_collision_returns_the_warning_fragment_so_htmx_swaps_it(world, agent, ticket):
    last_seen = ticket.messages.get().pk
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Update from me")
    data = {"body": "Answer", "status": Status.PENDING, "last_seen": last_seen}
    response = agent.post(url("agent_reply", ticket), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "New messages arrived" in html and "Update from me" in html and "Send anyway" in html
    assert not ticket.messages.filter(kind="reply").exists()
    empty = agent.post(url("agent_note", ticket), {"body": ""}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "errorlist" in empty.content.decode()


def test_customer_cannot_download_an_internal_notes_attachment(world, client_for, ticket):
    note = services.ticket_note(
        ticket=ticket, author=world.tech_agent, body_text="log", files=[services_file("log.png", PNG)]
    )
    attachment = note.attachments.get()
    assert client_for(world.customer).get(reverse("attachment", args=[attachment.pk])).status_code == 404
    assert client_for(world.tech_agent).get(reverse("attachment", args=[attachment.pk])).status_code == 200


def test_queue_sorts_cyrillic_customer_names_like_a_dictionary(world, client_for):
    from tests.factories import UserFactory

    for name in ["Яна", "анна", "Борис", "Ёлка", "Alice"]:
        make_ticket(UserFactory(display_name=name), world.technical)
    page = client_for(world.tech_agent).get("/agent/", {"sort": "customer"}).content.decode()
    positions = [page.index(n) for n in ["Alice", "анна", "Борис", "Ёлка", "Яна"]]
    assert positions == sorted(positions)

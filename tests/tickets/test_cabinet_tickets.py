import zoneinfo

import pytest
from django.urls import reverse

from tests.cabinet_files import PDF, english, png_bytes, upload  # noqa: F401 - english is a fixture
from tickets import services
from tickets.attachments import IncomingFile
from tickets.models import Message, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def ticket(world):
    return services.ticket_create(
        customer=world.customer,
        department=world.technical,
        subject="Сайт не открывается",
        body_text="Ошибка 502 на главной",
        fields={"site": "shop.example", "demo": True},
    )


def detail(ticket):
    return reverse("ticket_detail", args=[ticket.number])


def test_list_shows_only_own_tickets_open_and_closed_apart(client_for, world, ticket):
    closed = services.ticket_create(
        customer=world.customer, department=world.sales, subject="Old invoice", body_text="x"
    )
    services.ticket_close(ticket=closed, actor=world.sales_agent)
    foreign = services.ticket_create(
        customer=world.other_customer, department=world.technical, subject="Alice secret", body_text="x"
    )
    page = client_for(world.customer).get(reverse("ticket_list")).content.decode()
    open_part, closed_part = page.split('id="closed-title"')
    assert "Сайт не открывается" in open_part and "Old invoice" not in open_part
    assert "Old invoice" in closed_part
    assert "Alice secret" not in page and foreign.reference not in page


def test_search_by_subject_text_and_reference_never_internal_notes(client_for, world, ticket):
    other = services.ticket_create(
        customer=world.customer, department=world.sales, subject="Invoice", body_text="pay"
    )
    services.ticket_note(ticket=other, author=world.sales_agent, body_text="customer is a VIP zebra")
    services.ticket_reply(ticket=other, author=world.sales_agent, body_text="Paid, thanks, kangaroo")
    client = client_for(world.customer)

    def found(q):
        page = client.get(reverse("ticket_list"), {"q": q}).content.decode()
        return {t.subject for t in (ticket, other) if f">{t.subject}<" in page}

    assert found("не открывается") == {"Сайт не открывается"}
    assert found("ошибка 502") == {"Сайт не открывается"}  # message text, case-insensitive
    assert found("KANGAROO") == {"Invoice"}  # agent reply text
    assert found("zebra") == set()  # internal note
    assert found(f"#{other.number}") == {"Invoice"}
    assert found("nothing-like-this") == set()


def test_unread_agent_reply_is_marked_until_the_ticket_is_opened(client_for, world, ticket):
    client = client_for(world.customer)
    assert "New reply" not in client.get(reverse("ticket_list")).content.decode()
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Please check now")
    page = client.get(reverse("ticket_list")).content.decode()
    assert 'class="unread"' in page and "New reply" in page
    client.get(detail(ticket))
    assert "New reply" not in client.get(reverse("ticket_list")).content.decode()
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="internal")
    assert "New reply" not in client.get(reverse("ticket_list")).content.decode()  # notes are not replies
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="One more thing")
    assert "New reply" in client.get(reverse("ticket_list")).content.decode()


def test_list_costs_constant_queries(client_for, world, django_assert_max_num_queries):
    for i in range(6):
        t = services.ticket_create(
            customer=world.customer, department=world.technical, subject=f"T{i}", body_text="x"
        )
        services.ticket_reply(ticket=t, author=world.tech_agent, body_text="y")
    client = client_for(world.customer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("ticket_list")).status_code == 200


def test_conversation_shows_agent_names_fields_and_never_internal_notes(client_for, world, ticket):
    services.ticket_note(
        ticket=ticket,
        author=world.tech_agent,
        body_text="Internal: customer owes money",
        files=[IncomingFile("internal.png", png_bytes())],
    )
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="We restarted nginx")
    page = client_for(world.customer).get(detail(ticket)).content.decode()
    assert "We restarted nginx" in page and "Anna Tech" in page
    assert "Internal: customer owes money" not in page and "internal.png" not in page
    assert "shop.example" in page and "Site or server name" in page
    assert ">demo<" not in page  # flags are not shown as details
    note_file = Message.objects.get(kind="note").attachments.get()
    assert client_for(world.customer).get(reverse("attachment", args=[note_file.pk])).status_code == 404


def test_reply_with_attachment(client_for, world, ticket):
    client = client_for(world.customer)
    response = client.post(
        reverse("ticket_reply", args=[ticket.number]),
        {"body": "Here is a screenshot", "attachments": [upload("s.png", png_bytes())]},
    )
    message = ticket.messages.latest("pk")
    assert response.status_code == 302 and response["Location"].endswith(f"#m{message.pk}")
    assert (message.kind, message.author, message.body_text) == (
        "customer",
        world.customer,
        "Here is a screenshot",
    )
    att = message.attachments.get()
    assert client.get(reverse("attachment", args=[att.pk])).status_code == 200


def test_reply_with_disguised_file_is_refused(client_for, world, ticket):
    response = client_for(world.customer).post(
        reverse("ticket_reply", args=[ticket.number]), {"body": "x", "attachments": [upload("x.png", PDF)]}
    )
    assert response.status_code == 400 and "x.png" in response.content.decode()
    assert ticket.messages.count() == 1


def test_reply_to_closed_ticket_reopens_it(client_for, world, ticket):
    services.ticket_close(ticket=ticket, actor=world.tech_agent)
    client = client_for(world.customer)
    page = client.get(detail(ticket)).content.decode()
    assert "Your reply will open it again" in page
    client.post(reverse("ticket_reply", args=[ticket.number]), {"body": "It is broken again"})
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.closed_at is None
    assert Ticket.objects.count() == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_customer_closes_and_reopens(client_for, world, ticket):
    client = client_for(world.customer)
    assert "close the request" in client.get(detail(ticket)).content.decode()
    client.post(reverse("ticket_close", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.closed_at is not None
    page = client.get(detail(ticket)).content.decode()
    assert "Reopen the request" in page and "close the request" not in page
    client.post(reverse("ticket_reopen", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_merged_ticket_points_to_its_target_and_takes_no_replies(client_for, world, ticket):
    target = services.ticket_create(
        customer=world.customer, department=world.technical, subject="Main", body_text="x"
    )
    Ticket.objects.filter(pk=ticket.pk).update(merged_into=target, status="closed")
    client = client_for(world.customer)
    page = client.get(detail(ticket)).content.decode()
    assert target.reference in page and reverse("ticket_reply", args=[ticket.number]) not in page
    client.post(reverse("ticket_reply", args=[ticket.number]), {"body": "hello?"})
    assert ticket.messages.count() == 1


@pytest.mark.smoke  # the cabinet works on the embedded SQLite default too
def test_other_customer_gets_404_by_every_url(client_for, world, ticket):
    reply = services.ticket_reply(
        ticket=ticket, author=world.tech_agent, body_text="Answer", files=[IncomingFile("fix.pdf", PDF)]
    )
    first = ticket.messages.earliest("pk")
    services.ticket_customer_message(
        ticket=ticket, author=world.customer, body_text="x", files=[IncomingFile("mine.png", png_bytes())]
    )
    mine = ticket.messages.latest("pk").attachments.get()
    client = client_for(world.other_customer)
    n = ticket.number
    gets = [
        detail(ticket),
        reverse("attachment", args=[mine.pk]),
        reverse("attachment_named", args=[reply.attachments.get().pk, "fix.pdf"]),
    ]
    posts = [
        reverse("ticket_reply", args=[n]),
        reverse("ticket_close", args=[n]),
        reverse("ticket_reopen", args=[n]),
        reverse("rate_reply", args=[n, reply.pk]),
        reverse("rate_reply", args=[n, first.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"body": "hijack", "score": 1}).status_code == 404, url
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.filter(body_text="hijack").count() == 0
    assert not hasattr(reply, "rating") or reply.rating is None


def test_anonymous_is_sent_to_login(client, world, ticket):
    for url in (detail(ticket), reverse("ticket_list")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(reverse("ticket_close", args=[ticket.number])).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_agent_following_a_customer_link_lands_on_the_agent_page(client_for, world, ticket):
    response = client_for(world.tech_agent).get(detail(ticket))
    assert response.status_code == 302 and response["Location"] == reverse(
        "agent_ticket", args=[ticket.number]
    )
    assert client_for(world.sales_agent).get(response["Location"]).status_code == 404


def test_customer_cannot_close_by_get(client_for, world, ticket):
    assert client_for(world.customer).get(reverse("ticket_close", args=[ticket.number])).status_code == 405


def test_agent_reply_mail_links_to_the_ticket(world, ticket, sent_mail):
    sent_mail().clear()
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Fixed")
    (mail,) = sent_mail()
    assert mail.to == [world.customer.email]
    assert f"http://127.0.0.1:8000{detail(ticket)}" in mail.body
    assert "Fixed" in mail.body and "/rate/" in mail.body


def test_fields_partial_renders_labelled_details_for_any_page(world):
    from django.template.loader import render_to_string

    ticket = services.ticket_create(
        customer=world.customer,
        department=world.sales,
        subject="Invoice",
        body_text="x",
        fields={"problem": "Card <b>declined</b>", "invoice": "INV-7", "api_ref": "A-1", "demo": True},
    )
    html = render_to_string("tickets/_fields.html", {"ticket": ticket})
    assert html.index("Invoice code and number") < html.index("What exactly goes wrong")  # form order
    assert "Card &lt;b&gt;declined&lt;/b&gt;" in html  # escaped
    assert "api_ref" in html and "A-1" in html  # unknown keys (API, gateway) still shown
    assert "demo" not in html
    empty = services.ticket_create(customer=world.customer, department=world.sales, subject="x", body_text="x")
    assert render_to_string("tickets/_fields.html", {"ticket": empty}).strip() == ""


def test_detail_page_costs_constant_queries(client_for, world, ticket, django_assert_max_num_queries):
    for i in range(5):
        services.ticket_reply(
            ticket=ticket, author=world.tech_agent, body_text=f"r{i}", files=[IncomingFile(f"f{i}.pdf", PDF)]
        )
        services.ticket_customer_message(ticket=ticket, author=world.customer, body_text=f"c{i}")
    client = client_for(world.customer)
    with django_assert_max_num_queries(14):
        assert client.get(detail(ticket)).status_code == 200


def test_times_are_shown_in_the_customer_time_zone(client_for, world, ticket):
    world.customer.time_zone = "Asia/Tokyo"
    world.customer.save()
    page = client_for(world.customer).get(detail(ticket)).content.decode()
    created = ticket.messages.get().created_at
    assert created.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).isoformat()[:19] in page


def test_cabinet_speaks_russian_to_a_russian_customer(client_for, world, ticket):
    world.customer.language = "ru"
    world.customer.save()
    client = client_for(world.customer)
    assert "Мои заявки" in client.get(reverse("ticket_list")).content.decode()
    page = client.get(reverse("ticket_new")).content.decode()
    assert "Сайт или имя сервера" in page and "Одна проблема — одна заявка" in page
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Готово")
    assert "Оценить ответ" in client.get(detail(ticket)).content.decode()

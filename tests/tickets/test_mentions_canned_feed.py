import pytest
from django.urls import reverse

from tests.factories import AgentFactory, make_ticket, member
from tickets import services
from tickets.canned import render_canned
from tickets.feeds import feed_token
from tickets.mentions import parse_mentions, resolve_mentions
from tickets.models import CannedResponse

# --- Mentions -----------------------------------------------------------------------------------------


def test_parse_mentions_ignores_email_addresses():
    assert parse_mentions("@anna and @Boris.Gone, mail me at x@y.example @") == {"anna", "boris.gone"}


def test_resolve_by_local_part_display_name_and_unique_first_name(world):
    dept = world.technical.pk
    assert resolve_mentions(dept, "@tech") == [world.tech_agent]  # tech@helpdesk.example
    assert resolve_mentions(dept, "@AnnaTech") == [world.tech_agent]
    assert resolve_mentions(dept, "@anna") == [world.tech_agent]
    assert resolve_mentions(dept, "@sam") == []  # Sales agent: not of this department
    member(AgentFactory(display_name="Anna Other", email="ao@helpdesk.example"), world.technical)
    assert resolve_mentions(dept, "@anna") == []  # ambiguous first name: nobody rather than the wrong one


def test_departed_agent_is_not_notified(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical)
    world.departed_agent.is_active = False
    world.departed_agent.save()
    sent_mail().clear()
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="@gone ?")
    assert sent_mail() == []


def test_mention_mail_is_in_the_agents_language(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical)
    sent_mail().clear()
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="@boss глянь")
    (mail,) = sent_mail()
    assert (
        mail.to == [world.tech_manager.email]
        and "глянь" in mail.body
        and mail.subject.startswith(f"[{ticket.reference}]")
    )


# --- Canned responses -------------------------------------------------------------------------------


def test_placeholders_are_filled_and_unknown_braces_kept(world):
    ticket = make_ticket(world.customer, world.technical)
    text = render_canned(
        "Hello {customer_name}, re {ticket_reference} — {agent_name}, {department}. {customer_name.__class__} {x}",
        ticket=ticket,
        agent=world.tech_agent,
    )
    assert text == (
        f"Hello Иван Петров, re {ticket.reference} — Anna Tech, Technical support. {{customer_name.__class__}} {{x}}"
    )


def test_insert_endpoint_offers_department_and_own_personal_responses_only(world, client_for):
    ticket = make_ticket(world.customer, world.technical)
    shared = CannedResponse.objects.create(title="Hi", body="Hi {customer_name}", department=world.technical)
    mine = CannedResponse.objects.create(title="Mine", body="Bye", owner=world.tech_agent)
    theirs = CannedResponse.objects.create(title="Theirs", body="x", owner=world.tech_manager)
    sales = CannedResponse.objects.create(title="Sales", body="x", department=world.sales)
    agent = client_for(world.tech_agent)
    page = agent.get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    picker = page.split('id="canned-select"')[1].split("</select>")[0]
    assert (
        ">Hi<" in picker and "Mine (personal)" in picker and "Theirs" not in picker and "Sales" not in picker
    )
    insert = lambda c: agent.get(reverse("agent_canned_insert", args=[ticket.number, c.pk]))  # noqa: E731
    assert insert(shared).content.decode() == "Hi Иван Петров"
    assert insert(mine).status_code == 200
    assert insert(theirs).status_code == 404 and insert(sales).status_code == 404


def test_manager_manages_department_responses_agent_only_personal(world, client_for):
    manager, agent = client_for(world.tech_manager), client_for(world.tech_agent)
    manager.post(
        reverse("agent_canned_new"),
        {"title": "Reboot", "body": "Please reboot", "department": world.technical.pk},
    )
    shared = CannedResponse.objects.get(title="Reboot")
    assert shared.department == world.technical and shared.owner is None
    # An agent cannot create shared ones (the choice is not offered and not accepted) nor edit them.
    agent.post(reverse("agent_canned_new"), {"title": "Mine", "body": "x", "department": world.technical.pk})
    assert not CannedResponse.objects.filter(title="Mine").exists()
    agent.post(reverse("agent_canned_new"), {"title": "Mine", "body": "x"})
    assert CannedResponse.objects.get(title="Mine").owner == world.tech_agent
    assert agent.get(reverse("agent_canned_edit", args=[shared.pk])).status_code == 404
    assert agent.post(reverse("agent_canned_delete", args=[shared.pk])).status_code == 404
    assert "Reboot" in agent.get(reverse("agent_canned_list")).content.decode()
    manager.post(
        reverse("agent_canned_edit", args=[shared.pk]),
        {"title": "Reboot it", "body": "x", "department": world.technical.pk},
    )
    assert CannedResponse.objects.get(pk=shared.pk).title == "Reboot it"
    manager.post(reverse("agent_canned_delete", args=[shared.pk]))
    assert not CannedResponse.objects.filter(pk=shared.pk).exists()
    assert (
        client_for(world.sales_agent)
        .get(reverse("agent_canned_edit", args=[CannedResponse.objects.get(title="Mine").pk]))
        .status_code
        == 404
    )


# --- Atom feed ---------------------------------------------------------------------------------------


@pytest.fixture
def feed_world(world):
    tech = make_ticket(world.customer, world.technical, subject="Tech ticket", body="tech body")
    services.ticket_note(ticket=tech, author=world.tech_agent, body_text="internal tech note")
    make_ticket(world.customer, world.sales, subject="Sales ticket", body="sales body")
    return tech


def test_feed_lists_visible_messages_including_notes(world, client, feed_world):
    response = client.get(reverse("agent_feed", args=[feed_token(world.tech_agent)]))
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    assert "tech body" in body and "internal tech note" in body and "sales body" not in body


def test_feed_filters_by_department_and_queue(world, client, feed_world):
    token = feed_token(world.admin)
    url = reverse("agent_feed", args=[token])
    assert "tech body" not in client.get(url, {"department": "sales"}).content.decode()
    assert "sales body" in client.get(url, {"department": "sales"}).content.decode()
    assert "tech body" not in client.get(url, {"queue": "closed"}).content.decode()


def test_feed_404_for_bad_token_foreign_department_customer_and_departed(world, client, feed_world):
    good = feed_token(world.tech_agent)
    assert (
        client.get(reverse("agent_feed", args=[good[:-1] + ("1" if good[-1] == "0" else "0")])).status_code
        == 404
    )
    assert client.get(reverse("agent_feed", args=["x"])).status_code == 404
    assert client.get(reverse("agent_feed", args=[good]), {"department": "sales"}).status_code == 404
    assert client.get(reverse("agent_feed", args=[feed_token(world.customer)])).status_code == 404
    world.tech_agent.set_password("new")
    world.tech_agent.save()
    assert client.get(reverse("agent_feed", args=[good])).status_code == 404  # password change revokes
    departed = feed_token(world.departed_agent)
    world.departed_agent.is_active = False
    world.departed_agent.save()
    assert client.get(reverse("agent_feed", args=[departed])).status_code == 404


def test_queue_page_links_its_feed(world, client_for, feed_world):
    page = (
        client_for(world.tech_agent)
        .get(reverse("agent_department_queue", args=["technical"]))
        .content.decode()
    )
    assert reverse("agent_feed", args=[feed_token(world.tech_agent)]) + "?department=technical" in page


def test_feed_of_a_saved_workspace(world, client, feed_world):
    """?view= narrows the feed to a saved workspace the agent may see (the search app's selectors)."""
    from search.models import SavedSearch

    url = reverse("agent_feed", args=[feed_token(world.tech_agent)])
    mine = SavedSearch.objects.create(name="Urgent VPS", owner=world.tech_agent, filters={"q": "tech"})
    body = client.get(url, {"view": str(mine.pk)}).content.decode()
    assert "Urgent VPS" in body and "tech body" in body and "sales body" not in body
    others = SavedSearch.objects.create(name="Sales only", owner=world.sales_agent, filters={})
    assert client.get(url, {"view": str(others.pk)}).status_code == 404
    assert client.get(url, {"view": "x"}).status_code == 404

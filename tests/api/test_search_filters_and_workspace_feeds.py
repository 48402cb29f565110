"""The API ticket list filters exactly as the search page does (same selector, same parameters), and every
saved workspace has an Atom feed of its new messages behind the agent's secret feed token."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import regenerate_feed_key
from search import services as search_services
from tests.api.test_feeds import ATOM, atom_entries
from tests.factories import make_ticket
from tickets import services
from tickets.feeds import feed_token
from tickets.models import Ticket


@pytest.fixture
def spread(world):
    t = {}
    t["down"] = make_ticket(world.customer, world.technical, subject="Сервер упал", body="Не отвечает с утра",
                            acknowledge=False)
    services.ticket_note(ticket=t["down"], author=world.tech_agent, body_text="внутреннее: жираф сломал RAID")
    services.ticket_reply(ticket=t["down"], author=world.tech_agent, body_text="Перезагрузили серверы")
    t["slow"] = make_ticket(world.other_customer, world.technical, subject="Серверы тормозят", acknowledge=False)
    services.ticket_assign(ticket=t["slow"], actor=world.tech_agent, assignee=world.tech_agent)
    services.ticket_set_priority(ticket=t["slow"], actor=world.tech_agent, priority=4)
    t["bill"] = make_ticket(world.customer, world.technical, subject="Счёт за март", body="Где счёт за сервер?",
                            acknowledge=False)
    services.ticket_close(ticket=t["bill"], actor=world.tech_agent)
    t["old"] = make_ticket(world.customer, world.technical, subject="Old printer", acknowledge=False)
    Ticket.objects.filter(pk=t["old"].pk).update(
        created_at=timezone.now() - timedelta(days=400), updated_at=timezone.now() - timedelta(days=300)
    )
    t["sales"] = make_ticket(world.customer, world.sales, subject="Сервер в продажах", acknowledge=False)
    return t


def api_numbers(api, query: str) -> list[int]:
    response = api.get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 200, response.content
    return [t["number"] for t in response.json()["results"]]


def page_numbers(client, query: str, tickets) -> list[int]:
    """The tickets the /search/ page lists for the same query string, in the page's order."""
    html = client.get(f"{reverse('search')}?{query}").content.decode()
    found = {html.find(f'href="{reverse("agent_ticket", args=[t.number])}"'): t.number for t in tickets}
    return [number for position, number in sorted(found.items()) if position >= 0]


YEAR_AGO = (timezone.localdate() - timedelta(days=365)).isoformat()


@pytest.mark.parametrize(
    "query",
    [
        "q=серверов",  # a Russian word form: finds "Сервер", "Серверы" and "сервер?" in a message
        "q=жираф",  # internal notes are searched for agents
        "q=сервер&status=active",
        "q=сервер&assignee=me&priority=4",
        "q=сервер -тормозят&sort=oldest",
        "q=сервер&subject_only=on",
        f"created_before={YEAR_AGO}",
        "status=closed",
        "sort=newest",
    ],
)
def test_api_list_gives_the_same_tickets_as_the_search_page(world, api_for, client_for, spread, query):
    expected = page_numbers(client_for(world.tech_agent), query, spread.values())
    assert expected, "the case should find something"
    assert api_numbers(api_for(world.tech_agent), query) == expected


def test_word_forms_and_filters_narrow_as_expected(world, api_for, spread):
    api = api_for(world.tech_agent)
    t = spread
    assert set(api_numbers(api, "q=серверов")) == {t["down"].number, t["slow"].number, t["bill"].number}
    assert api_numbers(api, "q=серверов&status=active&assignee=me") == [t["slow"].number]
    assert api_numbers(api, "q=серверов&customer=" + world.other_customer.email) == [t["slow"].number]
    assert api_numbers(api, "q=%23" + str(t["down"].number)) == [t["down"].number]


def test_customer_searches_his_own_public_conversation_only(world, api_for, spread):
    api = api_for(world.customer)
    t = spread
    assert set(api_numbers(api, "q=серверов")) == {t["down"].number, t["bill"].number, t["sales"].number}
    assert api_numbers(api, "q=жираф") == []  # a word of an internal note
    assert api_numbers(api_for(world.other_customer), "q=серверов") == [t["slow"].number]
    assert api_numbers(api_for(world.sales_agent), "q=серверов") == [t["sales"].number]
    assert api_numbers(api_for(world.sales_agent), "q=%23" + str(t["down"].number)) == []


def test_invalid_filter_values_are_a_clear_400(world, api_for):
    response = api_for(world.tech_agent).get("/api/v1/tickets/", {"sort": "loudest", "created_before": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"sort", "created_before"}


def test_schema_documents_the_search_parameters(world, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/tickets/"]["get"]["parameters"]}
    assert {"q", "status", "answered_by", "subject_only", "has_attachments", "created_before", "sort"} <= params


# --- Workspace feeds --------------------------------------------------------------------------------------


@pytest.fixture
def workspace(world, spread):
    return search_services.workspace_create(owner=world.tech_agent, name="Серверы", filters={"q": "сервер"})


def feed_url(user, workspace) -> str:
    return reverse("workspace_atom", args=[feed_token(user), workspace.pk])


def test_workspace_feed_is_atom_with_the_workspaces_messages_newest_first(world, client, spread, workspace):
    response = client.get(feed_url(world.tech_agent, workspace))
    entries = atom_entries(response)
    root = ET.fromstring(response.content)
    assert "Серверы" in root.find(f"{ATOM}title").text
    ids = [int(e.find(f"{ATOM}id").text.rsplit("/", 1)[1]) for e in entries]
    expected = list(
        spread["down"].messages.filter(kind__in=["customer", "reply", "note"]).values_list("pk", flat=True)
    ) + list(spread["slow"].messages.filter(kind="customer").values_list("pk", flat=True)) + list(
        spread["bill"].messages.filter(kind="customer").values_list("pk", flat=True)
    )
    assert ids == sorted(expected, reverse=True)
    text = response.content.decode()
    assert "жираф сломал RAID" in text and "Перезагрузили серверы" in text  # the note and the reply
    assert "продажах" not in text and "Old printer" not in text
    link = entries[0].find(f"{ATOM}link").get("href")
    assert "/agent/" in link and link.endswith(f"#m{ids[0]}")


def test_workspace_feed_is_404_for_who_cannot_see_the_workspace(world, client, workspace):
    assert client.get(feed_url(world.sales_agent, workspace)).status_code == 404
    assert client.get(feed_url(world.tech_manager, workspace)).status_code == 404  # personal, not shared
    assert client.get(feed_url(world.customer, workspace)).status_code == 404
    assert client.get(reverse("workspace_atom", args=["1-nonsense", workspace.pk])).status_code == 404
    shared = search_services.workspace_create(
        owner=world.tech_manager, name="Team", filters={"status": "active"}, department=world.technical
    )
    assert client.get(feed_url(world.tech_agent, shared)).status_code == 200
    assert client.get(feed_url(world.sales_agent, shared)).status_code == 404


def test_regenerating_the_feed_key_revokes_the_workspace_feed(world, client, workspace):
    old = feed_url(world.tech_agent, workspace)
    assert client.get(old).status_code == 200
    regenerate_feed_key(world.tech_agent)
    assert client.get(old).status_code == 404
    assert client.get(feed_url(world.tech_agent, workspace)).status_code == 200


def test_workspace_feed_costs_a_bounded_number_of_queries(world, client, workspace, django_assert_max_num_queries):
    for i in range(30):
        ticket = make_ticket(world.customer, world.technical, subject=f"Сервер {i}", acknowledge=False)
        services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="note")
    url = feed_url(world.tech_agent, workspace)
    with django_assert_max_num_queries(4):  # user, workspace, the agent's department ids, messages (search = subquery)
        entries = atom_entries(client.get(url))
    assert len(entries) == 50


def test_workspace_page_and_edit_page_show_the_feed_link(world, client_for, workspace):
    client = client_for(world.tech_agent)
    url = feed_url(world.tech_agent, workspace)
    assert re.search(rf'href="http://testserver{re.escape(url)}"', client.get(reverse("workspace", args=[workspace.pk])).content.decode())
    assert url in client.get(reverse("workspace_edit", args=[workspace.pk])).content.decode()


def test_filtered_list_costs_a_constant_number_of_queries(world, api_for, spread, django_assert_max_num_queries):
    api = api_for(world.tech_agent)
    api.get("/api/v1/tickets/")  # last_used_at written once
    for i in range(5):
        make_ticket(world.customer, world.technical, subject=f"Сервер {i}", acknowledge=False)
    with django_assert_max_num_queries(4):  # token, department ids, count, page
        assert len(api_numbers(api, "q=серверов&status=active&has_attachments=false&sort=newest")) == 7


def test_customer_word_search_matches_his_cabinet_search(world, api_for, client_for, spread):
    """Customers' /search/ is the cabinet's list: the same word finds the same tickets there."""
    html = client_for(world.customer).get(reverse("ticket_list"), {"q": "серверов"}).content.decode()
    cabinet = {t.number for t in spread.values() if f'href="{reverse("ticket_detail", args=[t.number])}"' in html}
    assert cabinet and set(api_numbers(api_for(world.customer), "q=серверов")) == cabinet

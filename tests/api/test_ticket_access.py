"""The API sees exactly what the web UI shows the same user: customers their own tickets, agents their
departments' tickets; anything else is 404 by every endpoint."""

import pytest

from tests.factories import make_ticket
from tickets import services
from tickets.choices import Status


@pytest.fixture
def tickets(world):
    mine = make_ticket(world.customer, world.technical, subject="Мой сервер упал", acknowledge=False)
    services.ticket_note(ticket=mine, author=world.tech_agent, body_text="internal: check the RAID")
    services.ticket_reply(ticket=mine, author=world.tech_agent, body_text="We are on it")
    other = make_ticket(world.other_customer, world.technical, subject="Alice's printer", acknowledge=False)
    sale = make_ticket(world.other_customer, world.sales, subject="Invoice please", acknowledge=False)
    return mine, other, sale


def numbers(response):
    assert response.status_code == 200, response.content
    return {t["number"] for t in response.json()["results"]}


def test_customer_lists_only_his_own_tickets(world, api_for, tickets):
    mine, other, sale = tickets
    assert numbers(api_for(world.customer).get("/api/v1/tickets/")) == {mine.number}


def test_agent_lists_only_his_departments_tickets(world, api_for, tickets):
    mine, other, sale = tickets
    assert numbers(api_for(world.tech_agent).get("/api/v1/tickets/")) == {mine.number, other.number}
    assert numbers(api_for(world.sales_agent).get("/api/v1/tickets/")) == {sale.number}
    assert numbers(api_for(world.admin).get("/api/v1/tickets/")) == {mine.number, other.number, sale.number}


@pytest.mark.parametrize(
    "method,suffix,data",
    [
        ("get", "", None),
        ("patch", "", {"status": "closed"}),
        ("post", "replies/", {"body": "hello"}),
        ("post", "notes/", {"body": "hello"}),
        ("post", "transfer/", {"department": "triage"}),
        ("post", "merge/", {"target": 1}),
    ],
)
def test_others_tickets_are_404_by_every_endpoint(world, api_for, tickets, method, suffix, data):
    mine, other, sale = tickets
    cases = [(world.customer, other), (world.sales_agent, mine), (world.tech_agent, sale)]
    for user, ticket in cases:
        response = getattr(api_for(user), method)(
            f"/api/v1/tickets/{ticket.number}/{suffix}", data, content_type="application/json"
        )
        assert response.status_code == 404, (user, suffix)
        error = response.json()["error"]
        assert error["status"] == 404 and error["code"] == "not_found" and error["message"]


def test_customer_sees_public_messages_but_never_internal_notes(world, api_for, tickets):
    mine = tickets[0]
    data = api_for(world.customer).get(f"/api/v1/tickets/{mine.number}/").json()
    assert data["subject"] == "Мой сервер упал"
    assert [m["kind"] for m in data["messages"]] == ["customer", "reply"]
    assert "RAID" not in str(data)


def test_agent_sees_internal_notes(world, api_for, tickets):
    mine = tickets[0]
    data = api_for(world.tech_agent).get(f"/api/v1/tickets/{mine.number}/").json()
    assert [m["kind"] for m in data["messages"]] == ["customer", "note", "reply"]
    assert data["messages"][1]["author"]["name"] == "Anna Tech"


def test_customer_cannot_add_notes_or_use_agent_actions_on_his_own_ticket(world, api_for, tickets):
    mine = tickets[0]
    api = api_for(world.customer)
    for suffix, data in [("notes/", {"body": "x"}), ("transfer/", {"department": "sales"}), ("merge/", {"target": 1})]:
        assert api.post(f"/api/v1/tickets/{mine.number}/{suffix}", data, content_type="application/json").status_code == 404
    assert api.get("/api/v1/canned-responses/").status_code == 404


def test_filters_and_pagination(world, api_for, tickets):
    mine, other, sale = tickets
    services.ticket_set_status(ticket=other, actor=world.tech_agent, status=Status.CLOSED)
    api = api_for(world.tech_agent)
    assert numbers(api.get("/api/v1/tickets/", {"status": "closed"})) == {other.number}
    assert numbers(api.get("/api/v1/tickets/", {"status": ["pending", "closed"]})) == {mine.number, other.number}
    assert numbers(api.get("/api/v1/tickets/", {"q": "printer"})) == {other.number}
    assert numbers(api.get("/api/v1/tickets/", {"q": f"#{mine.number}"})) == {mine.number}
    assert numbers(api.get("/api/v1/tickets/", {"customer": world.customer.email})) == {mine.number}
    assert numbers(api.get("/api/v1/tickets/", {"department": "sales"})) == set()
    assert numbers(api.get("/api/v1/tickets/", {"channel": "web"})) == {mine.number, other.number}
    assert numbers(api.get("/api/v1/tickets/", {"channel": "api"})) == set()
    assert numbers(api.get("/api/v1/tickets/", {"escalated": "false"})) == {mine.number, other.number}
    assert numbers(api.get("/api/v1/tickets/", {"escalated": "true"})) == set()
    page = api.get("/api/v1/tickets/", {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    bad = api.get("/api/v1/tickets/", {"status": "nonsense", "assignee": "bob"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"status", "assignee"}


def test_departments_for_agents_and_customers(world, api_for):
    assert [d["slug"] for d in api_for(world.sales_agent).get("/api/v1/departments/").json()] == ["sales"]
    customer_view = {d["slug"] for d in api_for(world.customer).get("/api/v1/departments/").json()}
    assert customer_view == {"technical", "sales"}


def test_list_and_detail_cost_a_constant_number_of_queries(world, api_for, tickets, django_assert_max_num_queries):
    api = api_for(world.tech_agent)
    api.get("/api/v1/tickets/")  # last_used_at written once
    for i in range(5):
        make_ticket(world.customer, world.technical, subject=f"more {i}", acknowledge=False)
    with django_assert_max_num_queries(4):  # token, department ids (search selectors), count, page
        assert api.get("/api/v1/tickets/").status_code == 200
    with django_assert_max_num_queries(4):  # token, ticket, messages, attachments
        assert api.get(f"/api/v1/tickets/{tickets[0].number}/").status_code == 200


def test_statistics_count_only_visible_tickets(world, api_for, tickets):
    data = api_for(world.sales_agent).get("/api/v1/statistics/").json()
    assert data == {"tickets": {"sales": {"new": 1}}}

"""Search on the embedded SQLite default: substring matching (no stemming), same access rules, escaped
highlights. Runs on SQLite in `make test-sqlite` (smoke) and, forced, on PostgreSQL too."""

import pytest
from django.db import connection
from django.urls import reverse

from search import selectors, services, snippets
from search.filters import parse_filters
from search.selectors import search_tickets, workspaces_with_counts
from tests.factories import make_ticket
from tickets import services as ticket_services

pytestmark = pytest.mark.smoke


@pytest.fixture(params=["native", "substring"])
def mode(request, monkeypatch):
    if request.param == "substring":
        monkeypatch.setattr(selectors, "full_text", lambda: False)
        monkeypatch.setattr(snippets, "full_text", lambda: False)
    elif connection.vendor != "postgresql":
        pytest.skip("the native mode is the substring mode here")
    return request.param


def found(user, q, **params):
    return {t.subject for t in search_tickets(user=user, filters=parse_filters({"q": q, **params}))}


def test_substring_search_respects_access_and_notes(world, mode):
    t = make_ticket(world.customer, world.technical, subject="Сервер упал", body="<b>Nginx</b> не отвечает")
    make_ticket(world.customer, world.sales, subject="Сервер продаж", body="x")
    ticket_services.ticket_note(ticket=t, author=world.tech_agent, body_text="секретная пометка")
    assert found(world.tech_agent, "сервер") == {"Сервер упал"}
    assert found(world.tech_agent, "nginx сервер") == {"Сервер упал"}
    assert found(world.tech_agent, "сервер -nginx") == set()
    assert found(world.tech_agent, "пометка") == {"Сервер упал"}
    assert found(world.customer, "пометка") == set()
    assert found(world.tech_agent, "nginx", subject_only="on") == set()


def test_page_highlights_safely_and_workspaces_count(world, client_for, mode):
    make_ticket(world.customer, world.technical, subject="Сервер упал", body="<b>Nginx</b> не отвечает")
    html = client_for(world.tech_agent).get(reverse("search"), {"q": "nginx"}).content.decode()
    assert "<b>Nginx" not in html and "<mark>Nginx</mark>" in html
    services.workspace_create(owner=world.tech_agent, name="Nginx", filters={"q": "nginx"})
    assert [w.count for w in workspaces_with_counts(world.tech_agent)] == [1]

"""Headless Chromium: an agent types a search into the top bar, sees highlighted word forms, saves the
search as a workspace and finds it in his sidebar with its count."""

import re

import pytest

from search.models import SavedSearch
from tests.e2e.servers import format_violations, run_axe
from tests.factories import make_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_agent_searches_from_the_top_bar_and_saves_a_workspace(live_server, world, page):
    ticket = make_ticket(
        world.customer, world.technical, subject="Серверы не отвечают", body="Сервер упал ночью", acknowledge=False
    )
    make_ticket(world.customer, world.sales, subject="Сервер продаж", acknowledge=False)

    page.goto(f"{live_server.url}/login/?next=/agent/")
    page.fill("#id_username", world.tech_agent.email)
    page.fill("#id_password", "pw")
    page.click("button[type=submit].btn")
    page.wait_for_url(f"{live_server.url}/agent/")

    page.keyboard.press("/")  # the shortcut focuses the top bar's search box
    page.keyboard.type("сервер")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=.*"))
    results = page.locator("table.search-results")
    assert ticket.reference in results.inner_text()
    assert "Сервер продаж" not in results.inner_text()
    assert page.locator("table.search-results mark").first.inner_text() == "Серверы"
    violations = run_axe(page)
    assert not violations, format_violations(violations)

    page.fill("#save-workspace input[name=name]", "Серверы")
    page.click("#save-workspace button[type=submit]")
    workspace = SavedSearch.objects.get(name="Серверы")
    page.wait_for_url(f"**/search/workspaces/{workspace.pk}/")
    link = page.locator(".sidebar .workspaces a", has_text="Серверы")
    assert link.locator(".count").inner_text() == "1"
    assert workspace.filters == {"q": "сервер"}

    page.goto(f"{live_server.url}/agent/")
    page.click(".sidebar .workspaces a >> text=Серверы")
    page.wait_for_url(f"**/search/workspaces/{workspace.pk}/")
    assert ticket.reference in page.locator("table.search-results").inner_text()

    # A reference in the search box opens the ticket directly.
    page.fill("#topbar-q", ticket.reference)
    page.press("#topbar-q", "Enter")
    page.wait_for_url(f"**/agent/tickets/{ticket.number}/")

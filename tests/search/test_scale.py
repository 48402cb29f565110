"""Query shapes chosen for a million tickets (issue 7/11) keep what the user sees: capped counts of ranked
results, the agent's departments as constants, "unassigned" workspaces read as filters."""

import pytest

from search import selectors, services
from search.filters import parse_filters
from search.selectors import CappedResults, search_tickets, workspaces_with_counts
from tests.factories import AgentFactory, make_ticket
from tickets import services as ticket_services


@pytest.fixture
def servers(world):
    made = [
        make_ticket(world.customer, world.technical, subject=f"Сервер {i}", body="сервер " * i, acknowledge=False)
        for i in range(1, 5)
    ]
    make_ticket(world.customer, world.sales, subject="Сервер в продажах", acknowledge=False)
    return made


def _search(user, **params):
    return search_tickets(user=user, filters=parse_filters(params))


def test_ranked_results_count_stops_at_the_cap_and_pages_keep_the_relevance_order(world, servers):
    ranked = _search(world.tech_agent, q="сервер")
    full_order = list(ranked.values_list("pk", flat=True))
    assert len(full_order) == 4
    results = CappedResults(ranked, cap=3)
    assert results.count() == 3 and results.capped
    assert [t.pk for t in results[0:2]] == full_order[:2]
    assert [t.pk for t in results[2:3]] == full_order[2:3]
    exact = CappedResults(_search(world.tech_agent, q="сервер"), cap=10)
    assert exact.count() == 4 and not exact.capped
    assert [t.pk for t in exact[0:10]] == full_order


def test_ranked_search_page_costs_one_ranked_query(world, servers, django_assert_num_queries):
    results = CappedResults(_search(world.tech_agent, q="сервер"))
    # work_mem/jit, the ranked ids (the count and the page), the page's rows
    with django_assert_num_queries(3):
        assert results.count() == 4
        assert len(results[0:25]) == 4


def test_sidebar_counts_are_capped(world, servers, monkeypatch):
    services.workspace_create(owner=world.tech_agent, name="Servers", filters={"q": "сервер"})
    services.workspace_create(owner=world.tech_agent, name="Few", filters={"q": "сервер 4"})
    monkeypatch.setattr(selectors, "RESULT_CAP", 2)
    counts = {w.name: (w.count, w.count_capped) for w in workspaces_with_counts(world.tech_agent)}
    assert counts == {"Servers": (3, True), "Few": (1, False)}


def test_department_filter_only_finds_the_agents_own_departments(world, servers):
    assert _search(world.tech_agent, q="сервер", department="technical").count() == 4
    assert _search(world.tech_agent, q="сервер", department="sales").count() == 0
    assert _search(world.tech_agent, department="sales").count() == 0
    assert _search(world.tech_agent, department="nowhere").count() == 0


def test_agent_without_departments_finds_nothing(world, servers):
    loner = AgentFactory(email="loner@helpdesk.example")
    assert _search(loner, q="сервер").count() == 0
    services.workspace_create(owner=loner, name="All", filters={"status": "active"})
    assert [w.count for w in workspaces_with_counts(loner)] == [0]


def test_unassigned_active_workspace_counts_only_open_unassigned_tickets(world, servers):
    first, second, third, _ = servers
    ticket_services.ticket_assign(ticket=first, actor=world.tech_agent, assignee=world.tech_agent)
    ticket_services.ticket_close(ticket=second, actor=world.tech_agent)
    expected = {third.pk, servers[3].pk}
    assert set(_search(world.tech_agent, assignee="none", status="active").values_list("pk", flat=True)) == expected
    assert _search(world.tech_agent, assignee="none").filter(pk=second.pk).exists()  # closed: any status
    services.workspace_create(owner=world.tech_agent, name="Unassigned", filters={"assignee": "none", "status": "active"})
    assert [w.count for w in workspaces_with_counts(world.tech_agent)] == [2]

"""Workspaces (saved searches): save, open, sidebar with live counts, sharing, department defaults,
replace filters, rename, delete, access limits, constant query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search import services
from search.models import SavedSearch
from search.selectors import workspaces_with_counts
from tests.factories import make_ticket
from tickets import services as ticket_services


@pytest.fixture
def tickets(world):
    a = make_ticket(world.customer, world.technical, subject="Сервер упал", acknowledge=False)
    b = make_ticket(world.customer, world.technical, subject="Серверы тормозят", acknowledge=False)
    make_ticket(world.customer, world.technical, subject="Счёт за март", acknowledge=False)
    make_ticket(world.customer, world.sales, subject="Сервер в продажах", acknowledge=False)
    ticket_services.ticket_assign(ticket=b, actor=world.tech_agent, assignee=world.tech_agent)
    return a, b


def test_agent_saves_a_search_and_sees_it_in_the_sidebar_with_count(world, client_for, tickets):
    client = client_for(world.tech_agent)
    response = client.post(reverse("workspace_save"), {"name": "Серверы", "q": "сервер", "status": "new", "junk": "x"})
    ws = SavedSearch.objects.get(name="Серверы")
    assert response.status_code == 302 and response["Location"] == reverse("workspace", args=[ws.pk])
    assert ws.owner == world.tech_agent and ws.filters == {"q": "сервер", "status": "new"}
    html = client.get(reverse("workspace", args=[ws.pk])).content.decode()
    assert "2 tickets found" in html and "в продажах" not in html
    queue = client.get(reverse("agent_queue")).content.decode()
    assert re.search(rf'href="{reverse("workspace", args=[ws.pk])}">Серверы\s*<span class="count">2</span>', queue)


def test_counts_follow_new_tickets_and_the_viewer(world, client_for, tickets):
    ws = services.workspace_create(
        owner=world.tech_manager, name="Mine", filters={"assignee": "me"}, department=world.technical
    )
    [seen] = workspaces_with_counts(world.tech_agent)
    assert seen.pk == ws.pk and seen.count == 1  # "me" is whoever looks
    assert workspaces_with_counts(world.tech_manager)[0].count == 0
    t = make_ticket(world.other_customer, world.technical, subject="New one", acknowledge=False)
    ticket_services.ticket_assign(ticket=t, actor=world.tech_agent, assignee=world.tech_agent)
    assert workspaces_with_counts(world.tech_agent)[0].count == 2


def test_counts_never_include_invisible_tickets(world, tickets):
    services.workspace_create(owner=world.sales_agent, name="All servers", filters={"q": "сервер"})
    services.workspace_create(
        owner=world.sales_agent, name="Technical", filters={"department": "technical"}
    )
    counts = {w.name: w.count for w in workspaces_with_counts(world.sales_agent)}
    assert counts == {"All servers": 1, "Technical": 0}


def test_personal_workspace_is_invisible_to_others(world, client_for, tickets):
    ws = services.workspace_create(owner=world.tech_agent, name="Private", filters={"q": "сервер"})
    for user in (world.tech_manager, world.sales_agent, world.customer):
        client = client_for(user)
        assert client.get(reverse("workspace", args=[ws.pk])).status_code == 404
        assert client.get(reverse("workspace_edit", args=[ws.pk])).status_code == 404
        assert client.post(reverse("workspace_delete", args=[ws.pk])).status_code == 404
        assert client.post(reverse("workspace_replace", args=[ws.pk]), {"q": "x"}).status_code == 404
    assert "Private" not in client_for(world.tech_manager).get(reverse("agent_queue")).content.decode()
    assert SavedSearch.objects.get(pk=ws.pk).filters == {"q": "сервер"}


def test_sharing_with_the_department(world, client_for, tickets):
    ws = services.workspace_create(owner=world.tech_agent, name="Team servers", filters={"q": "сервер"})
    client = client_for(world.tech_agent)
    response = client.post(
        reverse("workspace_edit", args=[ws.pk]), {"name": "Team servers", "department": world.technical.pk}
    )
    assert response.status_code == 302
    ws.refresh_from_db()
    assert ws.department == world.technical and not ws.is_default
    colleague = client_for(world.tech_manager)
    assert "Team servers" in colleague.get(reverse("agent_queue")).content.decode()
    assert colleague.get(reverse("workspace", args=[ws.pk])).status_code == 200
    assert "Team servers" not in client_for(world.sales_agent).get(reverse("agent_queue")).content.decode()
    # a plain colleague may open it, not change it; the department's manager may
    other = client_for(world.departed_agent)
    assert other.get(reverse("workspace", args=[ws.pk])).status_code == 200
    assert other.post(reverse("workspace_delete", args=[ws.pk])).status_code == 404
    assert colleague.get(reverse("workspace_edit", args=[ws.pk])).status_code == 200


def test_cannot_share_with_a_foreign_department(world, client_for, tickets):
    ws = services.workspace_create(owner=world.tech_agent, name="Mine", filters={})
    response = client_for(world.tech_agent).post(
        reverse("workspace_edit", args=[ws.pk]), {"name": "Mine", "department": world.sales.pk}
    )
    assert response.status_code == 200  # the form shows the error: Sales is not a choice
    ws.refresh_from_db()
    assert ws.department is None
    with pytest.raises(services.WorkspaceError):
        services.workspace_create(owner=world.tech_agent, name="X", filters={}, department=world.sales)


def test_only_managers_set_department_defaults(world, client_for, tickets):
    with pytest.raises(services.WorkspaceError):
        services.workspace_create(
            owner=world.tech_agent, name="X", filters={}, department=world.technical, is_default=True
        )
    client = client_for(world.tech_manager)
    client.post(reverse("workspace_save"), {"name": "Unassigned of Support", "assignee": "none", "status": "active"})
    ws = SavedSearch.objects.get(name="Unassigned of Support")
    client.post(
        reverse("workspace_edit", args=[ws.pk]),
        {"name": ws.name, "department": world.technical.pk, "is_default": "on"},
    )
    ws.refresh_from_db()
    assert ws.is_default and ws.department == world.technical
    services.workspace_create(owner=world.tech_agent, name="A first by name", filters={})
    sidebar = [w.name for w in workspaces_with_counts(world.tech_agent)]
    assert sidebar == ["Unassigned of Support", "A first by name"]  # defaults first
    assert workspaces_with_counts(world.tech_agent)[0].count == 2  # the two unassigned open tickets
    # an agent's form does not even offer the default switch
    html = client_for(world.tech_agent).get(
        reverse("workspace_edit", args=[services.workspace_create(owner=world.tech_agent, name="Y", filters={}).pk])
    ).content.decode()
    assert "is_default" not in html


def test_replace_filters_with_the_current_search(world, client_for, tickets):
    ws = services.workspace_create(owner=world.tech_agent, name="Work", filters={"q": "сервер"})
    client = client_for(world.tech_agent)
    html = client.get(reverse("workspace", args=[ws.pk])).content.decode()
    assert "replace-workspace" not in html  # nothing to replace yet
    html = client.get(reverse("search"), {"q": "счёт", "workspace": ws.pk}).content.decode()
    assert "replace-workspace" in html and "за март" in html
    response = client.post(reverse("workspace_replace", args=[ws.pk]), {"q": "счёт", "workspace": ws.pk})
    assert response.status_code == 302
    ws.refresh_from_db()
    assert ws.filters == {"q": "счёт"}
    assert "1 ticket found" in client.get(reverse("workspace", args=[ws.pk])).content.decode()


def test_delete(world, client_for, tickets):
    ws = services.workspace_create(owner=world.tech_agent, name="Old", filters={})
    client = client_for(world.tech_agent)
    assert client.get(reverse("workspace_delete", args=[ws.pk])).status_code == 200
    assert client.post(reverse("workspace_delete", args=[ws.pk])).status_code == 302
    assert not SavedSearch.objects.filter(pk=ws.pk).exists()


def test_sidebar_costs_four_queries_whatever_the_number_of_workspaces(world, tickets, django_assert_num_queries):
    # The workspaces, the agent's departments (constants in the SQL), work_mem/jit, all counts in one statement.
    for i in range(2):
        services.workspace_create(owner=world.tech_agent, name=f"W{i}", filters={"q": "сервер", "status": "new"})
    with django_assert_num_queries(4):
        assert len(workspaces_with_counts(world.tech_agent)) == 2
    for i in range(10):
        services.workspace_create(
            owner=world.tech_manager, name=f"S{i}", department=world.technical,
            filters={"q": "сервер", "assignee": "me", "has_attachments": "on", "customer": "ivan@customer.example"},
        )
    with django_assert_num_queries(4):
        assert len(workspaces_with_counts(world.tech_agent)) == 12


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_workspace_page_query_count_is_constant(world, client_for, tickets, django_assert_max_num_queries):
    ws = services.workspace_create(owner=world.tech_agent, name="Servers", filters={"q": "сервер"})
    client = client_for(world.tech_agent)
    url = reverse("workspace", args=[ws.pk])
    few = _queries(client, url)
    for i in range(20):
        services.workspace_create(owner=world.tech_agent, name=f"W{i}", filters={"q": "сервер", "priority": "2"})
        make_ticket(world.other_customer, world.technical, subject=f"Сервер {i}", acknowledge=False)
    assert _queries(client, url) == few
    with django_assert_max_num_queries(16):
        client.get(url)


def test_queue_page_shows_workspaces_at_constant_cost(world, client_for, tickets):
    client = client_for(world.tech_agent)
    services.workspace_create(owner=world.tech_agent, name="One", filters={"q": "сервер"})
    few = _queries(client, reverse("agent_queue"))
    for i in range(10):
        services.workspace_create(owner=world.tech_agent, name=f"W{i}", filters={"status": "new"})
    assert _queries(client, reverse("agent_queue")) == few


def test_sidebar_counts_are_reused_briefly_and_recomputed_when_a_workspace_changes(
    world, client_for, tickets, settings, django_assert_num_queries
):
    settings.SEARCH_COUNTS_MAX_AGE = 60
    ws = services.workspace_create(owner=world.tech_agent, name="Servers", filters={"q": "сервер"})
    assert workspaces_with_counts(world.tech_agent, max_age=60)[0].count == 2
    make_ticket(world.other_customer, world.technical, subject="Ещё сервер", acknowledge=False)
    with django_assert_num_queries(1):  # the list only; counts from the cache
        assert workspaces_with_counts(world.tech_agent, max_age=60)[0].count == 2
    assert workspaces_with_counts(world.tech_agent)[0].count == 3  # max_age=0: always fresh
    services.workspace_replace_filters(workspace=ws, filters={"q": "сервер", "assignee": "me"})
    assert workspaces_with_counts(world.tech_agent, max_age=60)[0].count == 1
    settings.SEARCH_COUNTS_MAX_AGE = 0
    html = client_for(world.tech_agent).get(reverse("agent_queue")).content.decode()
    assert re.search(r'Servers\s*<span class="count">1</span>', html)

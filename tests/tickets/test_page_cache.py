"""The agent pages' cache (tickets.page_cache): queue counts, menus and the workspace sidebar are reused
between requests, yet a change made through the services shows at the next page load, nothing of another
department or agent is ever shown, and what bypasses the ORM shows within the documented few seconds."""

import re
from datetime import timedelta

import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from departments.models import Membership
from search import services as search_services
from tests.factories import AgentFactory, UserFactory, make_ticket, member
from tickets import page_cache, services
from tickets.models import Ticket

QUEUE = "agent_department_queue"


def _commit():
    """The commit of a real request: pending changes replace their tokens (the test transaction never commits)."""
    pending = page_cache._pending()
    if pending is not None:
        pending()


def _count(page: str, label: str) -> int:
    return int(re.search(rf">{re.escape(label)} <span class=\"count\">(\d+)</span>", page).group(1))


def _department_count(page: str, slug: str) -> int:
    return int(re.search(rf'/agent/d/{slug}/"[^>]*>[^<]+<span class="count">(\d+)</span>', page).group(1))


def _page(client, *args, **params) -> str:
    response = client.get(reverse(QUEUE, args=args or ["technical"]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_ticket_counts_at_the_next_load(world, client_for, django_capture_on_commit_callbacks):
    make_ticket(world.customer, world.technical, subject="first", acknowledge=False)
    _commit()
    agent = client_for(world.tech_agent)
    assert _count(_page(agent), "All open") == 1
    assert _count(_page(agent), "All open") == 1  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(world.customer, world.technical, subject="second", acknowledge=False)
    page = _page(agent)
    assert _count(page, "All open") == 2 and _count(page, "New") == 2 and "second" in page


def test_uncommitted_changes_are_counted_by_their_own_connection(world, client_for):
    agent = client_for(world.tech_agent)
    _commit()
    assert _count(_page(agent), "All open") == 0
    make_ticket(world.customer, world.technical, acknowledge=False)  # no commit: the token is not replaced yet
    assert _count(_page(agent), "All open") == 1


def test_transfer_changes_the_counts_of_both_departments(world, client_for, django_capture_on_commit_callbacks):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    _commit()
    manager = client_for(world.tech_manager)  # technical and triage
    page = _page(manager)
    assert (_department_count(page, "technical"), _department_count(page, "triage")) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transfer(ticket=ticket, actor=world.tech_manager, department=world.triage, reason="x")
    page = _page(manager, "triage")
    assert (_department_count(page, "technical"), _department_count(page, "triage")) == (0, 1)
    assert "Triage" in page[page.index("<h1>") : page.index("</h1>")] and page.count('class="queue-row') == 1


def test_counts_are_the_agents_own(world, client_for, django_capture_on_commit_callbacks):
    """Cached per agent: "mine" of one agent is never another's, and another department never shows."""
    world.tech_manager.language = "en"
    world.tech_manager.save()
    with django_capture_on_commit_callbacks(execute=True):
        t = make_ticket(world.customer, world.technical, acknowledge=False)
        services.ticket_assign(ticket=t, actor=world.tech_manager, assignee=world.tech_agent)
        make_ticket(world.customer, world.sales, acknowledge=False)
        make_ticket(world.customer, world.sales, acknowledge=False)
    agent, manager, sales = (client_for(u) for u in (world.tech_agent, world.tech_manager, world.sales_agent))
    for _ in range(2):  # cold, then from the cache
        assert _count(_page(agent), "My tickets") == 1
        assert _count(_page(manager), "My tickets") == 0
        sales_page = _page(sales, "sales")
        assert _count(sales_page, "All open") == 2 and "/agent/d/technical/" not in sales_page
        all_page = sales.get(reverse("agent_queue")).content.decode()
        assert _count(all_page, "All open") == 2
    assert sales.get(reverse(QUEUE, args=["technical"])).status_code == 404


def test_a_removed_membership_hides_the_department_at_once(world, client_for, django_capture_on_commit_callbacks):
    make_ticket(world.customer, world.triage, subject="Triage only", acknowledge=False)
    _commit()
    manager = client_for(world.tech_manager)
    assert "Triage only" in manager.get(reverse("agent_queue")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(user=world.tech_manager, department=world.triage).delete()
    page = manager.get(reverse("agent_queue")).content.decode()
    assert "Triage only" not in page and "/agent/d/triage/" not in page
    assert manager.get(reverse(QUEUE, args=["triage"])).status_code == 404


def test_changes_that_bypass_the_orm_show_within_the_max_age(world, client_for, settings):
    settings.HELPDESK_QUEUE_COUNTS_MAX_AGE = 5
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    _commit()
    agent = client_for(world.tech_agent)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert _count(_page(agent), "Escalated / overdue") == 0
        Ticket.objects.filter(pk=ticket.pk).update(escalated_at=timezone.now())  # as the SLA sweep's bulk UPDATE
        assert _count(_page(agent), "Escalated / overdue") == 0  # cached
        clock.shift(timedelta(seconds=6))
        assert _count(_page(agent), "Escalated / overdue") == 1


def test_pages_follow_the_rows_when_the_cached_count_is_behind(world, client_for):
    """A count a few seconds old never hides a ticket: the page reads one row more than it shows."""
    tickets = [make_ticket(UserFactory(), world.technical, subject=f"q{i}", acknowledge=False) for i in range(51)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(status="closed")
    _commit()
    agent = client_for(world.tech_agent)
    assert _count(_page(agent), "All open") == 0
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(status="open")  # bypasses the ORM: no new token
    page = _page(agent)
    assert len([line for line in page.splitlines() if 'class="queue-row' in line]) == 50
    assert "Page 1 of 2" in page and "page=2" in page
    page2 = _page(agent, page=2)
    assert len([line for line in page2.splitlines() if 'class="queue-row' in line]) == 1
    assert "Page 2 of 2" in page2


def test_menus_follow_memberships_and_names(world, client_for, django_capture_on_commit_callbacks):
    make_ticket(world.customer, world.technical, acknowledge=False)
    _commit()
    agent = client_for(world.tech_agent)

    def menu():
        page = _page(agent)
        start = page.index('<select name="assignee"')
        return page[start : page.index("</select>", start)]

    assert "Newcomer" not in menu()
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = member(AgentFactory(display_name="Newcomer"), world.technical)
    assert "Newcomer" in menu()
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.display_name = "Renamed <b>"
        newcomer.save()
    assert "Renamed &lt;b&gt;" in menu() and "Newcomer" not in menu()
    ticket_page = agent.get(reverse("agent_ticket", args=[Ticket.objects.first().number])).content.decode()
    assert "Renamed &lt;b&gt;" in ticket_page


def test_workspace_sidebar_shows_a_new_workspace_at_once(world, client_for, django_capture_on_commit_callbacks):
    _commit()
    agent = client_for(world.tech_agent)
    assert "Servers" not in _page(agent)
    with django_capture_on_commit_callbacks(execute=True):
        ws = search_services.workspace_create(owner=world.tech_agent, name="Servers", filters={"status": "new"})
    assert f'href="{reverse("workspace", args=[ws.pk])}"' in _page(agent)
    assert "Servers" not in _page(client_for(world.tech_manager))  # his own, not shared
    with django_capture_on_commit_callbacks(execute=True):
        search_services.workspace_delete(workspace=ws)
    assert "Servers" not in _page(agent)


def test_the_pages_work_without_the_cache(world, client_for, monkeypatch):
    """Redis down: every page computes what it shows, as without the cache."""
    make_ticket(world.customer, world.technical, acknowledge=False)
    _commit()

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    agent = client_for(world.tech_agent)
    assert _count(_page(agent), "All open") == 1
    assert agent.get(reverse("agent_ticket", args=[Ticket.objects.get().number])).status_code == 200
    page_cache.changed(world.technical.pk)  # outside a transaction: replaced at once, failure only logged


def test_failing_mailbox_banner_shows_within_its_max_age(world, client_for, settings):
    from mailgateway.models import Mailbox

    settings.HELPDESK_MAILBOX_BANNER_MAX_AGE = 10
    box = Mailbox.objects.create(name="Broken box", host="127.0.0.1", port=1, username="x", password_env="NONE")
    _commit()
    agent = client_for(world.tech_agent)
    home = reverse("agent_queue")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert "Broken box" not in agent.get(home).content.decode()
        Mailbox.objects.filter(pk=box.pk).update(consecutive_failures=5, last_error="refused")  # as a poll does
        assert "Broken box" not in agent.get(home).content.decode()  # cached
        clock.shift(timedelta(seconds=11))
        page = agent.get(home).content.decode()
        assert "Broken box" in page and "refused" in page
    assert "Broken box" not in client_for(world.customer).get(reverse("ticket_list")).content.decode()


def test_a_closed_ticket_leaves_the_count_at_the_next_load(world, client_for, django_capture_on_commit_callbacks):
    # ticket_close writes the ticket with the services' written-out UPDATE (helpdesk_site.rowsql.update_row),
    # which must invalidate the counts as save() does.
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    _commit()
    agent = client_for(world.tech_agent)
    assert _count(_page(agent), "All open") == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_close(ticket=ticket, actor=world.tech_agent)
    assert _count(_page(agent), "All open") == 0


def test_a_ticket_from_mail_counts_at_the_next_load(world, client_for, django_capture_on_commit_callbacks):
    from mailgateway.services import process_batch, store_raw

    agent = client_for(world.tech_agent)
    _commit()
    assert _count(_page(agent), "All open") == 0
    raw = (
        f"From: {world.customer.email}\r\nTo: {world.technical.from_email}\r\nSubject: Mail ticket\r\n"
        "Message-ID: <page-cache-1@example.com>\r\n\r\nThe site is down.\r\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        row, _ = store_raw(raw, source="pipe")
        process_batch(first_id=row.pk)
    page = _page(agent)
    assert _count(page, "All open") == 1 and "Mail ticket" in page

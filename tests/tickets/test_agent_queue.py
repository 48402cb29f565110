"""Queues: per-queue filtering, counts, sorting, pagination, bulk actions, isolation between departments."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, make_ticket
from tickets import services
from tickets.agent_selectors import queue_counts, queue_tickets
from tickets.choices import Priority, Status
from tickets.models import Ticket


def numbers(qs):
    return [t.number for t in qs]


@pytest.fixture
def tickets(world):
    t = {
        "new": make_ticket(world.customer, world.technical, subject="A new one"),
        "open": make_ticket(world.customer, world.technical, subject="B open"),
        "pending": make_ticket(world.other_customer, world.technical, subject="C pending"),
        "mine": make_ticket(world.customer, world.technical, subject="D mine"),
        "escalated": make_ticket(world.customer, world.technical, subject="E escalated"),
        "overdue": make_ticket(world.customer, world.technical, subject="F overdue"),
        "closed": make_ticket(world.customer, world.technical, subject="G closed"),
        "sales": make_ticket(world.customer, world.sales, subject="H sales"),
    }
    services.ticket_set_status(ticket=t["open"], actor=world.tech_agent, status=Status.OPEN)
    services.ticket_reply(ticket=t["pending"], author=world.tech_agent, body_text="?")
    services.ticket_assign(ticket=t["mine"], actor=world.tech_agent, assignee=world.tech_agent)
    Ticket.objects.filter(pk=t["escalated"].pk).update(escalated_at=timezone.now())
    Ticket.objects.filter(pk=t["overdue"].pk).update(
        first_response_due_at=timezone.now() - timedelta(minutes=1)
    )
    services.ticket_close(ticket=t["closed"], actor=world.tech_agent)
    return t


def test_each_queue_holds_its_tickets(world, tickets):
    agent = world.tech_agent

    def q(name):
        return set(numbers(queue_tickets(user=agent, queue=name)))

    n = {k: v.number for k, v in tickets.items()}
    assert q("open") == {n["open"]}
    assert q("pending") == {n["pending"]}
    assert q("mine") == {n["mine"]}
    assert q("escalated") == {n["escalated"], n["overdue"]}
    assert q("closed") == {n["closed"]}
    assert q("unassigned") == {n[k] for k in ("new", "open", "pending", "escalated", "overdue")}
    assert q("new") == {n[k] for k in ("new", "mine", "escalated", "overdue")}
    assert n["sales"] not in q("active")


def test_counts_match_lists_and_ignore_other_departments(world, tickets):
    counts = queue_counts(user=world.tech_agent)
    for name, count in counts.items():
        assert count == queue_tickets(user=world.tech_agent, queue=name).count(), name
    assert counts["active"] == 6
    assert queue_counts(user=world.sales_agent)["active"] == 1


def test_old_closed_tickets_leave_recently_closed(world, tickets):
    Ticket.objects.filter(pk=tickets["closed"].pk).update(updated_at=timezone.now() - timedelta(days=31))
    assert numbers(queue_tickets(user=world.tech_agent, queue="closed")) == []


def test_sorting(world, tickets):
    by_subject = numbers(queue_tickets(user=world.tech_agent, queue="active", sort="subject"))
    assert by_subject[0] == tickets["new"].number
    assert (
        numbers(queue_tickets(user=world.tech_agent, queue="active", sort="-subject"))[0]
        == tickets["overdue"].number
    )
    services.ticket_set_priority(ticket=tickets["open"], actor=world.tech_agent, priority=Priority.URGENT)
    assert numbers(queue_tickets(user=world.tech_agent, sort="-priority"))[0] == tickets["open"].number
    # Waiting longest first; tickets nobody waits on come last.
    waiting = numbers(queue_tickets(user=world.tech_agent, sort="waiting"))
    assert waiting[-1] == tickets["pending"].number and waiting[0] == tickets["new"].number


def test_queue_page_lists_counts_and_sorts(world, client_for, tickets):
    agent = client_for(world.tech_agent)
    page = agent.get(reverse("agent_queue"), {"queue": "escalated", "sort": "-reference"}).content.decode()
    assert "E escalated" in page and "F overdue" in page and "A new one" not in page
    assert page.index("F overdue") < page.index("E escalated")
    assert 'aria-sort="descending"' in page
    assert "queue=escalated&amp;sort=reference" in page  # a second click reverses the current sort
    assert "sort=-priority" in page and "sort=waiting" in page and "sort=subject" in page
    assert '<span class="count">2</span>' in page  # escalated count in the sidebar
    assert "H sales" not in page and "Sales" not in page.split('aria-label="Queues"')[1].split("</aside>")[0]


def test_department_queue_of_foreign_department_is_404(world, client_for, tickets):
    assert (
        client_for(world.sales_agent).get(reverse("agent_department_queue", args=["technical"])).status_code
        == 404
    )
    page = client_for(world.tech_agent).get(reverse("agent_department_queue", args=["technical"]))
    assert page.status_code == 200 and "B open" in page.content.decode()


def test_htmx_filter_returns_the_workspace_fragment(world, client_for, tickets):
    response = client_for(world.tech_agent).get(
        reverse("agent_queue"), {"queue": "mine"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and "D mine" in html and "B open" not in html


def test_pagination(world, client_for):
    for i in range(55):
        make_ticket(world.customer, world.technical, subject=f"T{i:02d}", acknowledge=False)
    agent = client_for(world.tech_agent)
    first = agent.get(reverse("agent_queue"), {"sort": "subject"}).content.decode()
    second = agent.get(reverse("agent_queue"), {"sort": "subject", "page": 2}).content.decode()
    assert "T00" in first and "T49" in first and "T50" not in first
    assert "T50" in second and "T54" in second and "Page 2 of 2" in second


def test_bulk_assign_status_transfer(world, client_for, tickets, sent_mail):
    agent = client_for(world.tech_agent)
    chosen = [tickets["new"].number, tickets["open"].number]
    agent.post(reverse("agent_bulk"), {"tickets": chosen, "action": "assign_me"})
    assert set(Ticket.objects.filter(number__in=chosen).values_list("assignee", flat=True)) == {
        world.tech_agent.pk
    }
    agent.post(reverse("agent_bulk"), {"tickets": chosen, "action": "status", "status": Status.RESOLVED})
    assert set(Ticket.objects.filter(number__in=chosen).values_list("status", flat=True)) == {Status.RESOLVED}
    sent_mail().clear()
    agent.post(
        reverse("agent_bulk"),
        {"tickets": chosen, "action": "transfer", "department": world.sales.pk, "reason": "billing"},
    )
    assert set(Ticket.objects.filter(number__in=chosen).values_list("department", flat=True)) == {
        world.sales.pk
    }
    assert {m.to[0] for m in sent_mail()} == {world.sales_agent.email}


def test_bulk_assign_to_a_colleague_skips_tickets_outside_his_department(world, client_for, tickets):
    admin = client_for(world.admin)
    chosen = [tickets["new"].number, tickets["sales"].number]
    response = admin.post(
        reverse("agent_bulk"), {"tickets": chosen, "action": "assign", "assignee": world.tech_manager.pk}
    )
    assert Ticket.objects.get(pk=tickets["new"].pk).assignee == world.tech_manager
    assert Ticket.objects.get(pk=tickets["sales"].pk).assignee is None
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["1 ticket changed.", "1 ticket could not be changed."]


def test_bulk_cannot_touch_invisible_tickets(world, client_for, tickets):
    response = client_for(world.sales_agent).post(
        reverse("agent_bulk"),
        {"tickets": [tickets["new"].number], "action": "status", "status": Status.CLOSED},
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=tickets["new"].pk).status == Status.NEW


def _queue_queries(client):
    client.get(reverse("agent_queue"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("agent_queue"), {"sort": "customer"}).status_code == 200
    return len(ctx.captured_queries)


def test_queue_page_query_count_is_independent_of_rows(world, client_for):
    agent = client_for(world.tech_agent)
    customers = [UserFactory() for _ in range(5)]
    for i in range(5):
        make_ticket(customers[i], world.technical, acknowledge=False)
    few = _queue_queries(agent)
    for i in range(45):
        t = make_ticket(UserFactory(), world.technical, acknowledge=False)
        services.ticket_assign(
            ticket=t, actor=world.tech_agent, assignee=[world.tech_agent, world.tech_manager][i % 2]
        )
    many = _queue_queries(agent)
    assert few == many, (few, many)
    print("queue page queries:", few)

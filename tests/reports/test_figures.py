"""Every figure a manager sees on /reports/ for the fixed November history (see conftest.py), computed by
hand: times are in the docstring of each test."""

import pytest
from django.urls import reverse

from tests.reports.conftest import NOVEMBER
from tests.reports.tables import read_page

pytestmark = pytest.mark.django_db


def page_for(client_for, user, query=NOVEMBER, department="technical"):
    url = reverse("reports_index") + (f"?department={department}&{query}" if department else "?" + query)
    response = client_for(user).get(url)
    assert response.status_code == 200
    return read_page(response.content.decode())


def test_stored_times_on_tickets_and_replies(history, world):
    t1, t2, t3, t5 = history.t1, history.t2, history.t3, history.t5
    assert (t1.first_response_seconds, t1.first_response_business_seconds, t1.first_responder) == (
        3600, 3600, world.tech_agent)
    assert (t1.resolution_seconds, t1.resolved_by) == (16200, world.tech_agent)
    # Friday 17:00 -> Monday 10:00: 65 h on the clock, 17-18 on Friday and 9-10 on Monday in office hours.
    assert (t2.first_response_seconds, t2.first_response_business_seconds) == (65 * 3600, 2 * 3600)
    assert (t2.resolution_seconds, t2.resolution_business_seconds) == (66 * 3600, 3 * 3600)
    # Resolved, reopened, resolved again: measured from creation to the final resolution.
    assert (t5.first_response_seconds, t5.resolution_seconds) == (1800, 7200)
    replies = list(t1.messages.filter(kind="reply").values_list("response_seconds", flat=True))
    assert replies == [3600, 9000]  # the second waited from the customer's 12:00 message to 14:30
    # Sales has no business hours: business time is wall-clock time there.
    assert (t3.first_response_seconds, t3.first_response_business_seconds) == (7200, 7200)


@pytest.mark.smoke  # also on SQLite: the percentiles come from the Python fallback there
def test_department_summary_as_the_manager_sees_it(history, client_for):
    """Technical now holds T1, T2, T4, T5 (T3 went to Sales).
    First response (business): 3600, 7200, 1800 -> median 1 h, p90 3600 + 0.8 * 3600 = 6480 s (1 h 48 min).
    Resolution (business): 16200, 10800, 7200 -> median 10800 (3 h)."""
    page = page_for(client_for, history.lead)
    assert page.summary["sum-created"] == "4"
    assert page.summary["sum-resolved"] == "3"
    assert page.summary["sum-reopened"] == "1"
    assert page.summary["sum-backlog"] == "1"
    assert page.summary["sum-replies"] == "5"
    assert page.summary["sum-frt"] == "1 h 00 min"
    assert page.summary["sum-frt-p90"] == "1 h 48 min"
    assert page.summary["sum-res"] == "3 h 00 min"
    assert page.summary["sum-breaches"] == "1"
    assert page.summary["sum-rating"] == "3.67 (3)"


@pytest.mark.smoke  # also on SQLite: the percentiles come from the Python fallback there
def test_department_table_business_hours_and_wall_clock(history, client_for):
    """Wall clock first response: 1800, 3600, 234000 -> median 1 h, p90 3600 + 0.8 * 230400 = 187920 s
    (2 d 4 h); resolution wall: 7200, 16200, 237600 -> median 4 h 30 min, p90 16200 + 0.8 * 221400 = 193320 s."""
    row = page_for(client_for, history.lead).tables["table-departments"]["Technical support"]
    assert row == [
        "4", "3", "1", "1", "5", "1",  # created, resolved, reopened, backlog, replies, notes
        "1 h 00 min", "1 h 48 min", "1 h 00 min", "2 d 4 h",  # first response: business, wall
        "3 h 00 min", "4 h 12 min", "4 h 30 min", "2 d 5 h",  # resolution: business, wall
        "1", "3.67", "3",  # breaches, rating average, ratings
    ]


@pytest.mark.smoke  # also on SQLite: the percentiles come from the Python fallback there
def test_agent_rows_include_the_departed_agent(history, client_for):
    """Anna: T1 and T5 (4 replies), a note on T3, first responses 3600 and 1800 (avg and median 45 min),
    the reply waits 3600, 9000, 1800, 3600 (median 1 h), resolved T1 and T5 (avg (16200 + 7200) / 2 =
    3 h 15 min), the breach of T4 assigned to her, ratings 4 and 5. Boris (inactive): T2."""
    agents = page_for(client_for, history.lead).tables["table-agents"]
    assert agents["Anna Tech"] == [
        "2", "4", "1", "2", "45 min", "45 min", "1 h 00 min", "2", "3 h 15 min", "1", "4.50", "2"]
    assert agents["Boris Gone (inactive)"] == [
        "1", "1", "0", "1", "2 h 00 min", "2 h 00 min", "2 h 00 min", "1", "3 h 00 min", "0", "2.00", "1"]
    assert agents["Lena Lead"][:3] == ["0", "0", "0"]  # a member without activity still has a row
    assert "Sam Sales" not in agents  # his reply was written in Sales


def test_transferred_ticket_counts_where_each_part_happened(history, client_for, world):
    sales = page_for(client_for, world.admin, department="sales")
    assert sales.tables["table-departments"]["Sales"][:6] == ["1", "0", "0", "1", "1", "0"]
    assert sales.tables["table-agents"]["Sam Sales"][:2] == ["1", "1"]
    technical = page_for(client_for, world.admin).tables["table-departments"]["Technical support"]
    assert technical[5] == "1"  # Anna's note before the transfer stays in Technical


def test_ratings_distribution_and_daily_table(history, client_for):
    page = page_for(client_for, history.lead)
    assert page.tables["table-ratings"]["★★★★★"] == ["1"]
    assert page.tables["table-ratings"]["★★★★"] == ["1"]
    assert page.tables["table-ratings"]["★★★"] == ["0"]
    assert page.tables["table-ratings"]["★★"] == ["1"]
    daily = page.tables["table-daily"]
    assert len(daily) == 1 + 30  # header + every day of November
    rows = list(daily.values())
    assert rows[23 - 1 + 1] == ["1", "1", "0"]  # 23 November: T1 created and resolved
    assert rows[30] == ["0", "1", "1"]  # 30 November: T2 closed, T4 still open


def test_period_switch_excludes_older_figures(history, client_for):
    """The last 7 days before 2 December: 26 November onwards (T5 and T2 only)."""
    page = page_for(client_for, history.lead, query="period=7d")
    assert page.summary["sum-created"] == "2"
    assert page.summary["sum-resolved"] == "2"
    assert page.summary["sum-backlog"] == "1"


def test_own_figures_page_for_an_agent(history, client_for, world):
    response = client_for(world.tech_agent).get(reverse("reports_own") + "?" + NOVEMBER)
    page = read_page(response.content.decode())
    assert page.summary["sum-replies"] == "4"
    assert page.tables["table-own"]["Technical support"][:3] == ["2", "4", "1"]


def test_api_returns_the_same_figures(history, client_for):
    data = client_for(history.lead).get(reverse("reports_api") + "?department=technical&" + NOVEMBER).json()
    (technical,) = data["departments"]
    assert (technical["created"], technical["frt_b_median"], technical["rating_count"]) == (4, 3600.0, 3)
    boris = next(a for a in data["agents"] if a["agent"]["name"] == "Boris Gone")
    assert boris["agent"]["active"] is False and boris["replies"] == 1


def test_backfill_command_rebuilds_the_stored_times(history, world):
    from django.core.management import call_command

    from tickets.models import Message, Rating, Ticket

    expected_tickets = list(Ticket.objects.order_by("pk").values_list(
        "first_response_seconds", "first_response_business_seconds", "first_responder", "resolution_seconds"))
    expected_messages = list(Message.objects.filter(kind__in=["reply", "note"]).order_by("pk").values_list(
        "department", "response_seconds", "response_business_seconds"))
    Ticket.objects.update(first_response_seconds=None, first_response_business_seconds=None,
                          first_responder=None, resolution_seconds=None, resolution_business_seconds=None)
    Message.objects.update(department=None, response_seconds=None, response_business_seconds=None)
    Rating.objects.update(department=None, agent=None)
    call_command("backfill_report_times", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(Ticket.objects.order_by("pk").values_list(
        "first_response_seconds", "first_response_business_seconds", "first_responder",
        "resolution_seconds")) == expected_tickets
    assert list(Message.objects.filter(kind__in=["reply", "note"]).order_by("pk").values_list(
        "department", "response_seconds", "response_business_seconds")) == expected_messages
    assert sorted(Rating.objects.values_list("department__slug", "agent__display_name", "score")) == [
        ("technical", "Anna Tech", 4), ("technical", "Anna Tech", 5), ("technical", "Boris Gone", 2)]


def test_all_departments_add_up(history, client_for, world):
    """The admin's overview: Technical (4 tickets, 5 replies) and Sales (T3, Sam's reply) together."""
    page = page_for(client_for, world.admin, department="")
    assert page.summary["sum-created"] == "5"
    assert page.summary["sum-replies"] == "6"
    assert page.summary["sum-backlog"] == "2"  # T4, and T3 waiting for the customer in Sales
    assert page.summary["sum-breaches"] == "1"
    assert page.summary["sum-rating"] == "3.67 (3)"
    # First response over T1, T2, T3, T5 in business time: 1800, 3600, 7200, 7200 -> median 5400 s.
    assert page.summary["sum-frt"] == "1 h 30 min"
    departments = page.tables["table-departments"]
    assert departments["Sales"][0] == "1" and departments["Technical support"][0] == "4"
    assert departments["Triage"][0] == "0"


def test_merged_duplicate_leaves_the_backlog_as_resolved(world, lead, client_for):
    from tickets import services

    first = services.ticket_create(customer=world.customer, department=world.technical, subject="a",
                                   body_text="x", acknowledge=False)
    duplicate = services.ticket_create(customer=world.customer, department=world.technical, subject="b",
                                       body_text="x", acknowledge=False)
    services.ticket_merge(source=duplicate, target=first, actor=world.tech_agent)
    page = page_for(client_for, lead, query="period=7d")
    assert (page.summary["sum-created"], page.summary["sum-resolved"], page.summary["sum-backlog"]) == ("2", "1", "1")
    assert page.summary["sum-res"] == "—"  # a merge is not a resolution with a time


def test_agent_reopening_counts_and_clears_the_resolution(world, lead, client_for):
    from tickets import services

    ticket = services.ticket_create(customer=world.customer, department=world.technical, subject="a",
                                    body_text="x", acknowledge=False)
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="y", status="resolved")
    services.ticket_reopen(ticket=ticket, actor=world.tech_agent)
    ticket.refresh_from_db()
    assert (ticket.resolution_seconds, ticket.resolved_by) == (None, None)
    page = page_for(client_for, lead, query="period=7d")
    assert (page.summary["sum-reopened"], page.summary["sum-resolved"], page.summary["sum-backlog"]) == ("1", "0", "1")

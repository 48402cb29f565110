"""Headless Chromium: a manager opens the statistics page, sees the figures and charts, switches period."""

from datetime import timedelta

import pytest
from django.utils import timezone

from departments.models import Membership
from tests.e2e.servers import format_violations, run_axe
from tests.factories import AgentFactory, make_ticket, member
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_opens_report_and_switches_period(live_server, world, page):
    lead = member(AgentFactory(email="lead@helpdesk.example", display_name="Lena Lead", language="en"),
                  world.technical, Membership.Role.MANAGER)
    recent = make_ticket(world.customer, world.technical, subject="Recent", acknowledge=False)
    services.ticket_reply(ticket=recent, author=world.tech_agent, body_text="Done", status="resolved")
    older = make_ticket(world.customer, world.technical, subject="Older", acknowledge=False)
    Ticket.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=20))

    page.goto(f"{live_server.url}/login/?next=/reports/")
    page.fill("#id_username", lead.email)
    page.fill("#id_password", "pw")
    page.click("button[type=submit].btn")
    page.wait_for_url(f"{live_server.url}/reports/")
    assert page.locator("h1").inner_text() == "Statistics"
    assert page.locator("#sum-created").inner_text() == "2"  # the last 30 days by default
    assert page.locator("#table-agents").get_by_text("Anna Tech").is_visible()
    assert page.locator("svg.chart-svg").count() == 4
    violations = run_axe(page)
    assert not violations, format_violations(violations)

    page.get_by_role("link", name="7 days").click()
    page.wait_for_url("**/reports/?period=7d")
    assert page.locator("#sum-created").inner_text() == "1"
    assert page.locator(".report-periods a.current").inner_text() == "7 days"

    with page.expect_download() as download:
        page.locator("#table-agents caption a").click()
    assert download.value.suggested_filename.startswith("report-agents-")

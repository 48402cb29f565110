"""Manager pages (managers of the department only; everyone else 404) and the SLA state on the ticket page."""

import pytest

from sla import services as sla
from sla.models import BusinessHours, EscalationLevel, Holiday, SlaPolicy
from tests.factories import make_ticket
from tickets import services

from .conftest import berlin


@pytest.fixture
def boss(world, client_for):
    return client_for(world.tech_manager)


def test_manager_sees_his_departments(world, boss):
    page = boss.get("/sla/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/sla/technical/" in text and "/sla/sales/" not in text and "/sla/triage/" not in text
    assert boss.get("/sla/technical/").status_code == 200


@pytest.mark.parametrize("who", ["tech_agent", "sales_agent", "customer"])
def test_non_managers_get_404(world, client_for, who):
    client = client_for(getattr(world, who))
    SlaPolicy.objects.create(department=world.technical, first_response_minutes=60)
    policy = SlaPolicy.objects.get()
    for url in ("/sla/", "/sla/technical/", "/sla/technical/hours/", "/sla/technical/policy/new/",
                f"/sla/technical/policy/{policy.pk}/", f"/sla/technical/policy/{policy.pk}/delete/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/sla/technical/policy/{policy.pk}/delete/").status_code == 404
    assert SlaPolicy.objects.exists()


def test_manager_of_another_department_gets_404(world, client_for):
    sales_policy = SlaPolicy.objects.create(department=world.sales, first_response_minutes=60)
    boss = client_for(world.tech_manager)
    assert boss.get("/sla/sales/").status_code == 404
    # Another department's object through his own department's URL is 404 too.
    assert boss.get(f"/sla/technical/policy/{sales_policy.pk}/").status_code == 404
    assert boss.post(f"/sla/technical/policy/{sales_policy.pk}/delete/").status_code == 404
    assert SlaPolicy.objects.filter(pk=sales_policy.pk).exists()


def test_anonymous_is_sent_to_login(client):
    assert client.get("/sla/technical/").status_code == 302


def test_manager_adds_targets_and_open_tickets_follow(world, boss, sent_mail, django_capture_on_commit_callbacks):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    assert ticket.first_response_due_at is None
    with django_capture_on_commit_callbacks(execute=True):
        response = boss.post("/sla/technical/policy/new/", {
            "priority": "", "first_response_minutes": "30", "next_response_minutes": "",
            "resolution_minutes": "600", "warning_percent": "75",
        })
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(department=world.technical)
    assert (policy.first_response_minutes, policy.business_hours, policy.warning_percent) == (30, False, 75)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is not None  # recomputed by the task after commit
    # A second any-priority policy is refused with a message.
    again = boss.post("/sla/technical/policy/new/", {"priority": "", "first_response_minutes": "5",
                                                     "warning_percent": "80"})
    assert again.status_code == 200 and "уже есть правило для этого приоритета" in again.content.decode()  # the manager reads Russian


def test_manager_edits_business_hours(world, boss):
    data = {"time_zone": "Europe/Berlin", "day_0": "09:00-13:00, 14:00-18:00", "day_4": "09:00-15:00"}
    assert boss.post("/sla/technical/hours/", data).status_code == 302
    hours = BusinessHours.objects.get(department=world.technical)
    assert hours.schedule == {"0": [[540, 780], [840, 1080]], "4": [[540, 900]]}
    page = boss.get("/sla/technical/").content.decode()
    assert "09:00-13:00, 14:00-18:00" in page
    bad = boss.post("/sla/technical/hours/", {"time_zone": "Mars/Olympus", "day_0": "18:00-09:00"})
    assert bad.status_code == 200
    assert "Неизвестный часовой пояс" in bad.content.decode() and "09:00-18:00" in bad.content.decode()


def test_manager_adds_and_deletes_a_holiday_but_not_a_global_one(world, boss):
    glob = Holiday.objects.create(date="2026-12-31", name="New Year's Eve")
    assert boss.post("/sla/technical/holiday/new/", {"date": "2026-12-24", "name": "Heiligabend"}).status_code == 302
    own = Holiday.objects.get(department=world.technical)
    assert boss.get(f"/sla/technical/holiday/{glob.pk}/delete/").status_code == 404
    assert boss.post(f"/sla/technical/holiday/{own.pk}/delete/").status_code == 302
    assert list(Holiday.objects.all()) == [glob]


def test_manager_adds_an_escalation_level_with_his_staff_only(world, boss):
    response = boss.post("/sla/technical/level/new/", {
        "level": "2", "after_minutes": "60", "users": [world.tech_agent.pk], "emails": "duty@example.org",
    })
    assert response.status_code == 302
    level = EscalationLevel.objects.get()
    assert list(level.users.all()) == [world.tech_agent] and level.notify_managers is False
    outsider = boss.post("/sla/technical/level/new/", {"level": "3", "users": [world.sales_agent.pk]})
    assert outsider.status_code == 200 and not EscalationLevel.objects.filter(level=3).exists()


def test_ticket_page_shows_time_left_and_breach(world, policy, clock, client_for, django_assert_max_num_queries):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    agent = client_for(world.tech_agent)
    clock(berlin(2026, 11, 23, 10, 40))
    page = agent.get(f"/agent/tickets/{ticket.number}/").content.decode().replace("\xa0", " ")
    assert 'id="sla-state"' in page and "First response" in page and "20 minutes left" in page
    clock(berlin(2026, 11, 23, 11, 30))
    with django_assert_max_num_queries(30):
        page = agent.get(f"/agent/tickets/{ticket.number}/").content.decode().replace("\xa0", " ")
    assert "breached 30 minutes ago" in page
    sla.sweep()
    page = agent.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert "Escalated (level 1): First response target missed" in page  # timeline event

    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Please send logs")  # pending
    page = agent.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert "Resolution clock paused" in page and "breached" not in page


def test_admin_edits_business_hours_with_the_weekday_fields(world, client_for):
    admin = client_for(world.admin)
    hours = BusinessHours.objects.create(department=world.technical, time_zone="Europe/Berlin",
                                         schedule={"0": [[540, 1080]]})
    page = admin.get(f"/admin/sla/businesshours/{hours.pk}/change/").content.decode()
    assert 'name="day_0"' in page and "09:00-18:00" in page
    data = {"department": world.technical.pk, "time_zone": "Europe/Moscow", "day_0": "09:00-18:00",
            "day_5": "10:00-14:00"}
    assert admin.post(f"/admin/sla/businesshours/{hours.pk}/change/", data).status_code == 302
    hours.refresh_from_db()
    assert hours.time_zone == "Europe/Moscow" and hours.schedule == {"0": [[540, 1080]], "5": [[600, 840]]}


def test_navigation_links_to_service_levels_for_managers_only(world, client_for):
    assert 'href="/sla/"' in client_for(world.tech_manager).get("/agent/").content.decode()
    assert 'href="/sla/"' not in client_for(world.tech_agent).get("/agent/").content.decode()
    assert 'href="/sla/"' not in client_for(world.customer).get("/tickets/").content.decode()

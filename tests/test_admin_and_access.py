import pytest
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services

ADMIN_PAGES = [
    "admin:accounts_user_changelist",
    "admin:accounts_user_add",
    "admin:departments_department_changelist",
    "admin:departments_department_add",
    "admin:departments_membership_changelist",
    "admin:tickets_ticket_changelist",
    "admin:tickets_message_changelist",
    "admin:tickets_product_changelist",
    "admin:tickets_cannedresponse_changelist",
    "admin:tickets_rating_changelist",
    "admin:mailgateway_outboundemail_changelist",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_load(world, client_for, name):
    make_ticket(world.customer, world.technical)
    response = client_for(world.admin).get(reverse(name), {"q": "Иван"} if "changelist" in name else {})
    assert response.status_code == 200


def test_admin_change_pages_load(world, client_for):
    ticket = make_ticket(world.customer, world.technical)
    c = client_for(world.admin)
    assert c.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    assert c.get(reverse("admin:departments_department_change", args=[world.technical.pk])).status_code == 200
    assert c.get(reverse("admin:accounts_user_change", args=[world.tech_agent.pk])).status_code == 200


def test_departed_agents_replies_still_show_his_name(world, client_for):
    ticket = make_ticket(world.customer, world.technical)
    services.ticket_reply(ticket=ticket, author=world.departed_agent, body_text="Restarted nginx")
    world.departed_agent.is_active = False
    world.departed_agent.save()
    agent_page = client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    customer_page = client_for(world.customer).get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    assert "Boris Gone" in agent_page and "Restarted nginx" in agent_page
    assert "Boris Gone" in customer_page


def test_agent_of_other_department_gets_404(world, client_for):
    ticket = make_ticket(world.customer, world.technical)
    assert client_for(world.sales_agent).get(reverse("agent_ticket", args=[ticket.number])).status_code == 404
    assert client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).status_code == 200


def test_customer_sees_only_own_tickets_and_no_notes(world, client_for):
    ticket = make_ticket(world.customer, world.technical)
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="SECRET NOTE")
    url = reverse("ticket_detail", args=[ticket.number])
    assert client_for(world.other_customer).get(url).status_code == 404
    page = client_for(world.customer).get(url)
    assert page.status_code == 200 and "SECRET NOTE" not in page.content.decode()
    assert client_for(world.customer).get(reverse("agent_ticket", args=[ticket.number])).status_code == 404


def test_saved_language_preference_drives_the_interface(world, client_for):
    c = client_for(world.customer)  # prefers Russian
    page = c.get(reverse("ticket_list"))
    assert page["Content-Language"] == "ru"
    c.post(reverse("set_language"), {"language": "en", "next": "/tickets/"})
    world.customer.refresh_from_db()
    assert world.customer.language == "en"
    assert c.get(reverse("ticket_list"))["Content-Language"] == "en"


def test_logout_requires_post_and_csrf(world):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.customer)
    assert c.post(reverse("logout")).status_code == 403

"""Headless Chromium against the live app: an agent logs in, opens the queue and a ticket, inserts a
canned response, edits it, replies, and the customer's mail arrives at a real SMTP server."""

import pytest

from tests.e2e.servers import format_violations, run_axe
from tests.factories import make_ticket
from tickets.models import CannedResponse, Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp_app(settings, smtp_server):
    # The live server runs in this process: the outbox send runs eagerly after commit, over real SMTP.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return smtp_server


def test_agent_replies_with_canned_response_and_customer_gets_mail(live_server, world, smtp_app, page):
    ticket = make_ticket(world.customer, world.technical, subject="Сайт не открывается", body="Помогите!")
    CannedResponse.objects.create(
        title="Greeting",
        body="Здравствуйте, {customer_name}! Заявка {ticket_reference}, {agent_name}.",
        department=world.technical,
    )
    smtp_app.wait_for(lambda m: "Сайт не открывается" in m.subject)  # the acknowledgement
    smtp_app.clear()

    page.goto(f"{live_server.url}/login/?next=/agent/")
    page.fill("#id_username", world.tech_agent.email)
    page.fill("#id_password", "pw")
    page.click("button[type=submit].btn")
    page.wait_for_url(f"{live_server.url}/agent/")
    violations = run_axe(page)
    assert not violations, format_violations(violations)
    page.click(f"text={ticket.subject}")
    page.wait_for_url(f"**/agent/tickets/{ticket.number}/")

    violations = run_axe(page)
    assert not violations, format_violations(violations)
    page.select_option("#canned-select", label="Greeting")
    body = page.locator("#id_body")
    expected = f"Здравствуйте, Иван Петров! Заявка {ticket.reference}, Anna Tech."
    page.wait_for_function("(t) => document.getElementById('id_body').value.includes(t)", arg=expected)
    body.press("End")
    body.type(" Перезагрузили сервер.")
    page.click("#reply-form button[type=submit]")
    page.locator("#conversation .msg-reply").wait_for()

    received = smtp_app.wait_for(lambda m: world.customer.email in m.rcpt_tos, timeout=20)
    assert expected in received.text() and "Перезагрузили сервер." in received.text()
    # (.strip(): the wire Subject is folded as "Subject:\n =?utf-8?...", which the parser keeps as a leading space)
    assert received.subject.strip() == f"[{ticket.reference}] Сайт не открывается"
    assert Message.objects.filter(ticket=ticket, kind="reply").count() == 1
    # The form was reset for the next reply, and the new message shows in the conversation.
    assert page.locator("#id_body").input_value() == ""
    assert "Перезагрузили сервер." in page.locator("#conversation").inner_text()


def test_keyboard_help_and_take_shortcut(live_server, world, page, client):
    ticket = make_ticket(world.customer, world.technical, subject="Shortcut test", acknowledge=False)
    page.goto(f"{live_server.url}/login/?next=/agent/tickets/{ticket.number}/")
    page.fill("#id_username", world.tech_agent.email)
    page.fill("#id_password", "pw")
    page.click("button[type=submit].btn")
    page.wait_for_url(f"**/agent/tickets/{ticket.number}/")
    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.locator("#take-form button[disabled]").wait_for()
    ticket.refresh_from_db()
    assert ticket.assignee == world.tech_agent


# Records notifications and sounds instead of producing them (headless Chromium has neither).
SPY = """
window.__notes = []; window.__sounds = 0;
window.Notification = class { constructor(title, opts) { window.__notes.push([title, opts.body]); }
  static get permission() { return "granted"; } static requestPermission() { return Promise.resolve("granted"); } };
window.Audio = class { play() { window.__sounds++; return Promise.resolve(); } };
"""


def _login(page, live_server, user, next_url):
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "pw")
    page.click("button[type=submit].btn")
    page.wait_for_url(f"**{next_url}")


def test_new_customer_message_plays_sound_and_notifies_unless_switched_off(live_server, world, page):
    from tickets import services

    ticket = make_ticket(world.customer, world.technical, subject="Polling test", acknowledge=False)
    page.add_init_script(SPY)
    page.clock.install()
    _login(page, live_server, world.tech_agent, f"/agent/tickets/{ticket.number}/")
    # The first poll (at load) only records what the agent has seen; wait until it has answered.
    page.wait_for_function("() => document.getElementById('agent-config').dataset.seen !== undefined")
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Any news?")
    page.clock.run_for(16000)
    page.locator("#new-activity").wait_for(state="visible")
    assert page.evaluate("window.__sounds") == 1
    assert page.evaluate("window.__notes") == [["New message", f"#{ticket.number} Polling test"]]

    # Switched off on the queue page (stored in localStorage): no sound, no notification.
    page.goto(f"{live_server.url}/agent/")
    page.uncheck("#notify-toggle")
    page.wait_for_function("() => document.getElementById('agent-config').dataset.seen !== undefined")
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Hello?")
    page.clock.run_for(16000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__sounds") == 0 and page.evaluate("window.__notes") == []


def test_j_k_move_through_the_queue_and_between_tickets(live_server, world, page):
    first = make_ticket(world.customer, world.technical, subject="First", acknowledge=False)
    second = make_ticket(world.customer, world.technical, subject="Second", acknowledge=False)
    _login(page, live_server, world.tech_agent, "/agent/?sort=reference")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("tr.queue-row.selected").get_attribute("data-href") == f"/agent/tickets/{second.number}/"
    page.check("input[data-select-all]")
    assert page.locator("#bulk-form input[name=tickets]:checked").count() == 2
    page.uncheck("input[data-select-all]")
    page.keyboard.press("k")
    page.keyboard.press("o")
    page.wait_for_url(f"**/agent/tickets/{first.number}/")
    page.keyboard.press("j")
    page.wait_for_url(f"**/agent/tickets/{second.number}/")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "id_body"


def test_collision_warning_before_sending_then_send_anyway(live_server, world, page):
    from tickets import services

    ticket = make_ticket(world.customer, world.technical, subject="Collision", acknowledge=False)
    _login(page, live_server, world.tech_agent, f"/agent/tickets/{ticket.number}/")
    page.fill("#id_body", "Have you tried turning it off and on?")
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Fixed it myself, thanks")
    page.click("#reply-form button[type=submit]")
    page.locator("#reply-form .collision").wait_for()
    assert "Fixed it myself, thanks" in page.locator("#reply-form .collision").inner_text()
    assert page.locator("#id_body").input_value() == "Have you tried turning it off and on?"
    assert not ticket.messages.filter(kind="reply").exists()
    page.click("#reply-form button[type=submit]")  # now labelled "Send anyway"
    page.locator("#conversation .msg-reply").wait_for()
    assert ticket.messages.filter(kind="reply").count() == 1

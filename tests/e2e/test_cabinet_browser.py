"""A customer registers, files a Technical ticket with a screenshot, gets the agent's answer, rates it
and closes the ticket — in headless Chromium at phone width (375 px), with axe-core on every page."""

import os
import re
import time

import pytest
from django.core import mail

from tests.cabinet_files import png_bytes
from tests.e2e.servers import format_violations, run_axe
from tickets import services
from tickets.models import Rating, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Blue-Harbour-7731"
PHONE = {"width": 375, "height": 812}


def wait_for_mail(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(mail.outbox):
            if predicate(message):
                return message
        time.sleep(0.1)
    raise AssertionError(f"no matching mail; outbox: {[m.subject for m in mail.outbox]}")


def local(url: str, live_server) -> str:
    """Links in mail use SITE_URL; point them at the live server."""
    return live_server.url + re.sub(r"^https?://[^/]+", "", url)


def check_page(page, name):
    shots = os.environ.get("E2E_SCREENSHOT_DIR")  # for looking at the pages by eye
    if shots:
        page.screenshot(path=os.path.join(shots, re.sub(r"\W+", "_", name).strip("_") + ".png"), full_page=True)
    violations = run_axe(page)
    assert not violations, f"{name}: {format_violations(violations)}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: page is {overflow}px wider than the 375px screen"


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="en-US", viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


def register_and_log_in(phone, live_server, email):
    phone.goto(live_server.url + "/register/")
    check_page(phone, "register")
    phone.get_by_label("Email address").fill(email)
    phone.get_by_label("Your name").fill("Petra Phone")
    phone.get_by_label("Password:", exact=True).fill(PASSWORD)
    phone.get_by_label("Password again").fill(PASSWORD)
    phone.get_by_label("Language:", exact=True).select_option("en")
    phone.get_by_role("button", name="Create account").click()
    phone.get_by_role("heading", name="Check your email").wait_for()

    verify = wait_for_mail(lambda m: m.to == [email] and "/register/verify/" in m.body)
    link = re.search(r"https?://\S+/register/verify/\S+/", verify.body).group(0)
    phone.goto(local(link, live_server))
    assert "/login/" in phone.url
    assert "email address is confirmed" in phone.content()
    check_page(phone, "login")
    phone.get_by_label("Email address").fill(email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.get_by_role("heading", name="My tickets").wait_for()


def file_technical_ticket(phone, live_server):
    phone.get_by_role("link", name="New request").first.click()
    phone.get_by_role("heading", name="New request").wait_for()
    sales_group = phone.locator('fieldset.detail-group[data-form-kind="sales"]')
    phone.get_by_label("Technical support").check()
    assert not sales_group.is_visible()  # the script shows only the chosen category's details
    assert phone.get_by_label("Site or server name").is_visible()
    check_page(phone, "new ticket")
    phone.get_by_label("Subject").fill("shop.example shows error 502")
    assert "28 / 120" in phone.locator(".char-counter").text_content()
    phone.get_by_label("Describe your request").fill("Since 10:00 the shop shows a 502 page.")
    phone.get_by_label("Site or server name").fill("shop.example")
    phone.get_by_label("What exactly happens").fill("502 Bad Gateway")
    phone.get_by_label("Attachments").set_input_files(
        [{"name": "screenshot.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    phone.get_by_role("button", name="Send request").click()
    phone.get_by_role("heading", name=re.compile("shop.example shows error 502")).wait_for()
    assert "screenshot.png" in phone.content() and "502 Bad Gateway" in phone.content()
    check_page(phone, "ticket")


def test_customer_files_follows_rates_and_closes_a_ticket(phone, live_server, world, settings):
    settings.SITE_URL = live_server.url
    email = "petra@customer.example"
    register_and_log_in(phone, live_server, email)
    file_technical_ticket(phone, live_server)
    ticket = Ticket.objects.get(customer__email=email)
    assert ticket.department == world.technical and ticket.fields["site"] == "shop.example"
    assert ticket.messages.get().attachments.get().content_type == "image/png"

    phone.get_by_role("link", name="My tickets").first.click()
    assert phone.locator("#open-title ~ table").get_by_text("shop.example shows error 502").is_visible()
    check_page(phone, "list")

    services.ticket_reply(
        ticket=ticket, author=world.tech_agent, body_text="We restarted PHP-FPM, please check."
    )
    reply_mail = wait_for_mail(lambda m: m.to == [email] and "restarted PHP-FPM" in m.body)
    phone.reload()
    assert phone.get_by_text("New reply").is_visible()
    phone.get_by_role("link", name="shop.example shows error 502").first.click()
    assert phone.get_by_text("We restarted PHP-FPM, please check.").is_visible()
    assert phone.get_by_text("Anna Tech").first.is_visible()

    phone.get_by_text("Rate this answer").click()
    phone.get_by_label("5 stars").check()
    phone.get_by_label("Comment (optional)").fill("Quick and right")
    phone.get_by_role("button", name="Send rating").click()
    phone.get_by_text("Customer rating: 5 of 5").wait_for()
    assert Rating.objects.get().score == 5
    check_page(phone, "ticket after rating")

    phone.get_by_role("button", name=re.compile("close the request")).click()
    phone.get_by_role("button", name="Reopen the request").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    phone.get_by_role("link", name="My tickets").first.click()
    assert phone.locator("#closed-title ~ table").get_by_text("shop.example shows error 502").is_visible()

    # The one-click link from the reply mail shows a confirmation form (a prefetch stores nothing).
    rate_link = re.search(r"https?://\S+/rate/\d+/[0-9a-f]+/", reply_mail.body).group(0)
    phone.goto(local(rate_link, live_server) + "?score=3")
    check_page(phone, "rating link")
    assert Rating.objects.get().score == 5
    phone.get_by_role("button", name="Send rating").click()
    phone.get_by_role("heading", name="Thank you for your rating!").wait_for()
    assert Rating.objects.get().score == 3


def test_cabinet_pages_pass_axe_at_375px_for_a_signed_in_customer(phone, live_server, world, client):
    world.customer.language = "en"
    world.customer.save()
    ticket = services.ticket_create(
        customer=world.customer,
        department=world.sales,
        subject="Invoice",
        body_text="x",
        fields={"invoice": "INV-1"},
    )
    services.ticket_reply(ticket=ticket, author=world.sales_agent, body_text="Sent again")
    client.force_login(world.customer)
    cookie = client.cookies["sessionid"]
    phone.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    for path in ("/tickets/", "/tickets/new/", f"/tickets/{ticket.number}/", "/account/", "/password/reset/"):
        phone.goto(live_server.url + path)
        check_page(phone, path)
    # Validation errors are announced and still pass.
    phone.goto(live_server.url + "/tickets/new/")
    phone.get_by_role("button", name="Send request").click()
    phone.locator(".errorlist").first.wait_for()
    check_page(phone, "new ticket with errors")

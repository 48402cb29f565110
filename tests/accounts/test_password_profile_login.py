import re

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"http://127\.0\.0\.1:8000(/password/reset/[^/\s]+/[^/\s]+/)")


def follow_reset_link(client, mail, password="New-Secret-Pass-9"):
    link = RESET_LINK.search(mail.body).group(1)
    page = client.get(link, follow=True)  # Django swaps the token into the session and redirects
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    return client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_password_reset_through_our_pages_and_the_outbox(client, world, sent_mail):
    response = client.post(reverse("password_reset"), {"email": "ivan@customer.example"})
    assert response["Location"] == reverse("password_reset_done")
    mail = sent_mail()[-1]
    assert mail.to == ["ivan@customer.example"]
    assert mail.subject == "Восстановление пароля в службе поддержки"  # Ivan reads Russian
    response = follow_reset_link(client, mail)
    assert response["Location"] == reverse("password_reset_complete")
    assert client.login(username="ivan@customer.example", password="New-Secret-Pass-9")


def test_reset_link_is_single_use(client, world, sent_mail):
    client.post(reverse("password_reset"), {"email": "ivan@customer.example"})
    mail = sent_mail()[-1]
    follow_reset_link(client, mail)
    link = RESET_LINK.search(mail.body).group(1)
    page = client.get(link, follow=True)
    assert "not valid" in page.content.decode()


def test_unknown_address_gets_the_same_page_and_no_mail(client, world, sent_mail):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert response["Location"] == reverse("password_reset_done")
    assert sent_mail() == []


def test_email_only_customer_claims_the_account_by_setting_a_password(client, sent_mail):
    lazy = User.objects.create_user("lazy@customer.example")
    assert not lazy.has_usable_password()
    client.post(reverse("password_reset"), {"email": "lazy@customer.example"})
    mail = sent_mail()[-1]
    assert "Set a password for your helpdesk account" in mail.subject
    follow_reset_link(client, mail)
    lazy.refresh_from_db()
    assert lazy.has_usable_password() and lazy.email_verified_at is not None
    assert client.login(username="lazy@customer.example", password="New-Secret-Pass-9")


def test_ticket_acknowledgement_carries_a_claim_link_only_without_password(client, world, sent_mail):
    lazy = User.objects.create_user("lazy@customer.example")
    make_ticket(lazy, world.technical, channel="email")
    make_ticket(world.customer, world.technical)
    mails = {m.to[0]: m for m in sent_mail()}
    assert RESET_LINK.search(mails["lazy@customer.example"].body)
    assert "/password/reset/" in mails["lazy@customer.example"].alternatives[0][0]
    assert "/password/reset/" not in mails["ivan@customer.example"].body
    # The link in the acknowledgement works.
    follow_reset_link(client, mails["lazy@customer.example"])
    assert client.login(username="lazy@customer.example", password="New-Secret-Pass-9")


def test_profile_saves_language_and_time_zone(client_for, world):
    client = client_for(world.other_customer)
    page = client.get(reverse("profile"))
    assert page.status_code == 200 and "Europe/Moscow" in page.content.decode()
    response = client.post(
        reverse("profile"), {"display_name": "Alice A.", "language": "ru", "time_zone": "Asia/Tokyo"}
    )
    assert response["Location"] == reverse("profile")
    world.other_customer.refresh_from_db()
    assert (
        world.other_customer.display_name,
        world.other_customer.language,
        world.other_customer.time_zone,
    ) == (
        "Alice A.",
        "ru",
        "Asia/Tokyo",
    )
    page = client.get(reverse("profile"))
    assert '<html lang="ru">' in page.content.decode()


def test_profile_rejects_unknown_time_zone(client_for, world):
    response = client_for(world.other_customer).post(
        reverse("profile"), {"display_name": "", "language": "en", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    world.other_customer.refresh_from_db()
    assert world.other_customer.time_zone == ""


def test_profile_requires_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_password_change(client_for, world):
    client = client_for(world.customer)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": "Another-Pass-77", "new_password2": "Another-Pass-77"},
    )
    assert response["Location"] == reverse("password_change_done")
    world.customer.refresh_from_db()
    assert world.customer.check_password("Another-Pass-77")


def test_login_locks_out_after_repeated_failures(client, world, settings):
    settings.HELPDESK_LOGIN_MAX_FAILURES = 3
    url = reverse("login")
    for _ in range(3):
        assert client.post(url, {"username": world.customer.email, "password": "wrong"}).status_code == 200
    response = client.post(url, {"username": world.customer.email, "password": "pw"})
    assert response.status_code == 429 and "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from another address is not affected.
    other = client.post(
        url, {"username": world.other_customer.email, "password": "pw"}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 302


def test_successful_login_resets_the_failure_count(client, world, settings):
    settings.HELPDESK_LOGIN_MAX_FAILURES = 3
    url = reverse("login")
    for _ in range(2):
        client.post(url, {"username": world.customer.email, "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert (
        client.post(
            url, {"username": world.customer.email, "password": "pw"}, REMOTE_ADDR="10.0.0.2"
        ).status_code
        == 302
    )
    client.logout()
    for _ in range(2):
        client.post(url, {"username": world.customer.email, "password": "wrong"}, REMOTE_ADDR="10.0.0.3")
    assert (
        client.post(
            url, {"username": world.customer.email, "password": "pw"}, REMOTE_ADDR="10.0.0.4"
        ).status_code
        == 302
    )


def test_login_page_links_to_register_and_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert reverse("register") in page and reverse("password_reset") in page


def test_language_switch_in_the_top_bar_is_saved_on_the_user(client_for, world):
    client = client_for(world.other_customer)
    response = client.post(reverse("set_language"), {"language": "ru", "next": reverse("ticket_list")})
    assert response.status_code == 302
    world.other_customer.refresh_from_db()
    assert world.other_customer.language == "ru"
    assert "Мои заявки" in client.get(reverse("ticket_list")).content.decode()

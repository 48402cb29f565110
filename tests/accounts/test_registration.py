import re

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/register/verify/\S+/")


def register(client, email="new@customer.example", password="Correct-Horse-42", **extra):
    data = {
        "email": email,
        "display_name": "Nina New",
        "password1": password,
        "password2": password,
        "language": "ru",
        "time_zone": "Europe/Moscow",
        **extra,
    }
    return client.post(reverse("register"), data)


def verification_link(mails) -> str:
    return LINK.search(mails[-1].body).group(0).replace("http://127.0.0.1:8000", "")


def test_registration_creates_inactive_customer_and_mails_a_link(client, sent_mail):
    response = register(client)
    assert response.status_code == 302 and response["Location"] == reverse("register_done")
    user = User.objects.get(email="new@customer.example")
    assert not user.is_active and user.email_verified_at is None and not user.is_agent
    assert (user.language, user.time_zone, user.display_name) == ("ru", "Europe/Moscow", "Nina New")
    mails = sent_mail()
    assert [m.to for m in mails] == [["new@customer.example"]]
    assert mails[0].subject == "Подтвердите адрес электронной почты"  # in the language chosen on the form
    assert "new@customer.example" in client.get(reverse("register_done")).content.decode()


def test_login_is_refused_until_the_link_is_clicked_then_works(client, sent_mail):
    register(client)
    response = client.post(
        reverse("login"), {"username": "new@customer.example", "password": "Correct-Horse-42"}
    )
    assert response.status_code == 200
    assert "follow the link we sent you" in response.content.decode()
    link = verification_link(sent_mail())
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    user = User.objects.get(email="new@customer.example")
    assert user.is_active and user.email_verified_at is not None
    response = client.post(
        reverse("login"), {"username": "new@customer.example", "password": "Correct-Horse-42"}
    )
    assert response.status_code == 302
    assert client.get(reverse("ticket_list")).status_code == 200


def test_verification_link_works_once_and_tampering_is_rejected(client, sent_mail):
    register(client)
    link = verification_link(sent_mail())
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    assert client.get(tampered).status_code == 400
    assert not User.objects.get(email="new@customer.example").is_active
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 400  # already used


def test_verification_never_reactivates_departed_staff(client, world):
    from accounts.tokens import email_verification_token, uid_for

    world.departed_agent.is_active = False
    world.departed_agent.save()
    token = email_verification_token.make_token(world.departed_agent)
    response = client.get(reverse("verify_email", args=[uid_for(world.departed_agent), token]))
    assert response.status_code == 400
    world.departed_agent.refresh_from_db()
    assert not world.departed_agent.is_active


def test_registering_a_known_address_mails_instead_of_telling_the_page(client, world, sent_mail):
    response = register(client, email="IVAN@customer.example")
    assert response["Location"] == reverse("register_done")  # same answer as for a new address
    assert User.objects.filter(email__iexact="ivan@customer.example").count() == 1
    world.customer.refresh_from_db()
    assert world.customer.check_password("pw")  # untouched
    mails = sent_mail()
    assert mails[-1].to == ["ivan@customer.example"]
    assert "/password/reset/" in mails[-1].body


def test_registering_an_email_only_customer_sends_a_claim_link(client, sent_mail):
    lazy = User.objects.create_user("lazy@customer.example")  # as the mail gateway creates them
    register(client, email="lazy@customer.example")
    mail = sent_mail()[-1]
    assert "written to us by email" in mail.body and "/password/reset/" in mail.body
    lazy.refresh_from_db()
    assert not lazy.has_usable_password()


def test_departed_staff_address_gets_no_mail(client, world, sent_mail):
    world.departed_agent.is_active = False
    world.departed_agent.save()
    register(client, email=world.departed_agent.email)
    assert sent_mail() == []


def test_registration_validates_passwords(client):
    response = register(client, password2="something-else")
    assert response.status_code == 200 and "do not match" in response.content.decode()
    response = register(client, password="123", password2="123")
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="new@customer.example").exists()


def test_resend_verification_mails_a_new_link_to_pending_registrations_only(client, world, sent_mail):
    register(client)
    sent_mail().clear()
    client.post(reverse("resend_verification"), {"email": "new@customer.example"})
    client.post(reverse("resend_verification"), {"email": world.customer.email})
    mails = sent_mail()
    assert [m.to for m in mails] == [["new@customer.example"]]
    assert client.get(verification_link(mails)).status_code == 302


def test_registration_is_throttled_per_ip(client, settings, sent_mail):
    settings.HELPDESK_REGISTRATIONS_PER_HOUR = 2
    for i in range(2):
        register(client, email=f"n{i}@customer.example")
    response = register(client, email="n3@customer.example")
    assert response.status_code == 200 and "Too many registrations" in response.content.decode()
    assert not User.objects.filter(email="n3@customer.example").exists()


def test_logged_in_user_is_sent_home_from_register(client_for, world):
    assert client_for(world.customer).get(reverse("register")).status_code == 302

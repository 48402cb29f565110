"""Personal API tokens: created on /api/tokens/, shown once, stored hashed, revocable, last use shown."""

import re

from django.urls import reverse

from api.models import ApiToken
from tests.factories import UserFactory


def test_token_page_shows_a_new_token_once_and_stores_only_its_hash(world, client_for):
    client = client_for(world.tech_agent)
    page = client.post(reverse("api_tokens"), {"name": "billing integration"}).content.decode()
    secret = re.search(r'value="(hd_[^"]+)"', page).group(1)
    token = ApiToken.objects.get(user=world.tech_agent)
    assert token.name == "billing integration" and token.key_hash == ApiToken.hash(secret)
    assert secret not in {token.key_hash, token.prefix} and secret.startswith(token.prefix)
    later = client.get(reverse("api_tokens")).content.decode()
    assert "billing integration" in later and secret not in later and "never" in later


def test_token_authenticates_as_its_user_and_records_last_use(world, api_for):
    api = api_for(world.tech_agent)
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["email"] == world.tech_agent.email and response.json()["is_agent"] is True
    assert ApiToken.objects.get(user=world.tech_agent).last_used_at is not None


def test_revoked_token_is_refused_with_a_json_error(world, api_for, client_for):
    api = api_for(world.customer)
    token = ApiToken.objects.get(user=world.customer)
    page = client_for(world.customer)
    assert page.post(reverse("api_token_revoke", args=[token.pk])).status_code == 302
    response = api.get("/api/v1/tickets/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert "Bearer" in response["WWW-Authenticate"]


def test_someone_elses_token_cannot_be_revoked(world, api_for, client_for):
    api_for(world.customer)
    token = ApiToken.objects.get(user=world.customer)
    assert client_for(world.other_customer).post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_deactivated_users_token_stops_working(world, api_for):
    api = api_for(world.departed_agent)
    world.departed_agent.is_active = False
    world.departed_agent.save()
    assert api.get("/api/v1/tickets/").status_code == 401


def test_requests_without_credentials_or_with_a_bad_token_get_401(world, client):
    assert client.get("/api/v1/tickets/").status_code == 401
    bad = client.get("/api/v1/tickets/", headers={"Authorization": "Bearer hd_nope"})
    assert bad.status_code == 401 and bad.json()["error"]["message"]


def test_session_login_works_for_reads_but_posts_need_csrf(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory(email="web@customer.example"))
    assert browser.get("/api/v1/tickets/").status_code == 200
    response = browser.post("/api/v1/tickets/", {"department": "technical", "subject": "x", "body": "y"},
                            content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]


def test_token_page_is_for_logged_in_users_customers_included(world, client, client_for):
    assert client.get(reverse("api_tokens")).status_code == 302  # to the login page
    page = client_for(world.other_customer).get(reverse("api_tokens"))
    assert page.status_code == 200 and "You have no API tokens." in page.content.decode()
    profile = client_for(world.other_customer).get(reverse("profile")).content.decode()
    assert reverse("api_tokens") in profile

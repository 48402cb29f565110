"""The statistics through the REST API (token auth): the same figures as the page's JSON, same access rules."""

import pytest
from django.urls import reverse

from api import services as api_services
from tests.reports.conftest import NOVEMBER

pytestmark = pytest.mark.django_db


def _token_client(user):
    from django.test import Client

    _token, secret = api_services.token_create(user=user, name="reports")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_api_report_has_the_figures_of_the_page(history, client_for):
    query = "?department=technical&" + NOVEMBER
    page_json = client_for(history.lead).get(reverse("reports_api") + query).json()
    api = _token_client(history.lead).get(reverse("api:reports") + query)
    assert api.status_code == 200
    assert api.json() == page_json
    anna = next(a for a in api.json()["agents"] if a["agent"]["name"] == "Anna Tech")
    assert anna["replies"] == 4  # the hand-computed figure the CSV test checks too


def test_api_report_access(world, history):
    assert _token_client(world.tech_agent).get(reverse("api:reports")).status_code == 404
    assert _token_client(world.customer).get(reverse("api:reports")).status_code == 404
    other = _token_client(world.tech_manager).get(reverse("api:reports") + "?department=sales")
    assert other.status_code == 404 and "error" in other.json()
    assert _token_client(world.admin).get(reverse("api:reports") + "?department=sales").status_code == 200


def test_api_own_report(world, history):
    response = _token_client(world.tech_agent).get(reverse("api:reports-own") + "?" + NOVEMBER)
    assert response.status_code == 200 and "totals" in response.json()
    assert _token_client(world.customer).get(reverse("api:reports-own")).status_code == 404

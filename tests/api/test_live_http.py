"""One journey over real HTTP (live server, real commits): a token creates a ticket, the webhook receiver
gets the signed event after the commit, the customer gets his acknowledgement, an agent replies."""

import json

import pytest
import requests
from django.core import mail

from api import services as api_services
from tests.api.test_webhooks import receiver, verify  # noqa: F401 - fixture
from webhooks.models import WebhookEndpoint


@pytest.mark.django_db(transaction=True)
def test_create_and_reply_over_http_with_webhook_and_mail(world, live_server, receiver):  # noqa: F811
    WebhookEndpoint.objects.create(name="CRM", department=world.technical, url=receiver.url, secret="k",
                                   events=["ticket.created", "message.created"])
    _t, customer_token = api_services.token_create(user=world.other_customer, name="portal")
    _t, agent_token = api_services.token_create(user=world.tech_agent, name="bot")
    base = f"{live_server.url}/api/v1"

    created = requests.post(f"{base}/tickets/", timeout=30, json={
        "department": "technical", "subject": "Portal ticket", "body": "Filed from our portal"},
        headers={"Authorization": f"Bearer {customer_token}", "Idempotency-Key": "p-1"})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert [json.loads(b)["event"] for _h, b in receiver.calls] == ["ticket.created"]
    assert verify(*receiver.calls[0], "k")
    assert any(m.to == [world.other_customer.email] for m in mail.outbox)  # acknowledgement

    reply = requests.post(f"{base}/tickets/{number}/replies/", timeout=30, json={"body": "On it"},
                          headers={"Authorization": f"Bearer {agent_token}"})
    assert reply.status_code == 201, reply.text
    assert any("On it" in m.body for m in mail.outbox if m.to == [world.other_customer.email])
    detail = requests.get(f"{base}/tickets/{number}/", timeout=30,
                          headers={"Authorization": f"Bearer {customer_token}"}).json()
    assert [m["body_text"] for m in detail["messages"]] == ["Filed from our portal", "On it"]
    assert requests.get(f"{base}/tickets/{number}/", timeout=30).status_code == 401

"""Webhooks delivered over real HTTP to a local receiver: signed, after commit, retried after failure."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from sla import services as sla
from tests.factories import make_ticket
from tests.sla.conftest import berlin, clock, office_hours, policy  # noqa: F401 - fixtures
from tickets import services
from webhooks import tasks
from webhooks.models import WebhookDelivery, WebhookEndpoint


class Receiver:
    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []  # statuses to answer with, then 200

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _h, body in self.calls]


@pytest.fixture
def receiver():
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.calls.append((dict(self.headers), body))
            self.send_response(rec.answers.pop(0) if rec.answers else 200)
            self.end_headers()
            self.wfile.write(b"thanks")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/hooks/helpdesk"
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(world, receiver):
    return WebhookEndpoint.objects.create(
        name="Billing", department=world.technical, url=receiver.url, secret="s3cret",
        events=["ticket.created", "message.created", "ticket.status_changed", "ticket.assigned",
                "ticket.transferred", "ticket.escalated"],
    )


def verify(headers: dict, body: bytes, secret: str) -> bool:
    """What a receiver does: recompute the HMAC over timestamp + '.' + body."""
    expected = hmac.new(secret.encode(), headers["X-Helpdesk-Timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Helpdesk-Signature"])


@pytest.mark.smoke
def test_ticket_created_through_the_api_is_posted_signed_after_commit(world, api_for, endpoint, receiver, commit):
    response = api_for(world.customer).post(
        "/api/v1/tickets/", {"department": "technical", "subject": "Сервер", "body": "Не работает"},
        content_type="application/json",
    )
    assert receiver.calls == []  # nothing leaves before the commit
    commit()
    assert receiver.events() == ["ticket.created"]
    headers, body = receiver.calls[0]
    assert verify(headers, body, "s3cret") and not verify(headers, body, "wrong")
    payload = json.loads(body)
    assert headers["X-Helpdesk-Event"] == "ticket.created" and headers["X-Helpdesk-Delivery"] == payload["id"]
    assert payload["ticket"]["number"] == response.json()["number"] and payload["ticket"]["subject"] == "Сервер"
    assert payload["data"]["message"]["body_text"] == "Не работает"
    assert payload["actor"]["email"] == world.customer.email
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_failed_delivery_is_retried_with_backoff_until_it_succeeds(world, endpoint, receiver, commit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    receiver.answers = [500]
    make_ticket(world.customer, world.technical, acknowledge=False)
    commit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.response_status == 500
    assert delivery.next_attempt_at > timezone.now()
    assert tasks.retry_due_deliveries() == 0  # not before its backoff
    time_machine.move_to(delivery.next_attempt_at + timedelta(seconds=1), tick=False)
    assert tasks.retry_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    first, second = receiver.calls
    assert first[1] == second[1] and verify(*second, "s3cret")  # the same payload, signed again


def test_gives_up_after_the_maximum_attempts(world, endpoint, receiver, commit, settings):
    settings.HELPDESK_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [503]
    make_ticket(world.customer, world.technical, acknowledge=False)
    commit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.next_attempt_at is None


def test_unreachable_receiver_is_recorded_and_retried(world, endpoint, commit):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:9/nothing-listens")
    make_ticket(world.customer, world.technical, acknowledge=False)
    commit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "ConnectionError" in delivery.last_error


def test_conversation_and_workflow_events(world, endpoint, receiver, commit):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Answer")
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="secret note")
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Thanks")
    services.ticket_assign(ticket=ticket, actor=world.tech_manager, assignee=world.tech_agent)
    services.ticket_transfer(ticket=ticket, actor=world.tech_manager, department=world.sales, reason="billing")
    commit()
    assert receiver.events() == [
        "ticket.created", "ticket.status_changed", "message.created", "ticket.status_changed",
        "message.created", "ticket.assigned", "ticket.transferred",
    ]
    bodies = [json.loads(b) for _h, b in receiver.calls]
    assert "secret note" not in str(bodies)  # internal notes only for endpoints that ask for them
    assert bodies[1]["data"] == {"old": "new", "new": "pending"}
    assert bodies[2]["data"]["message"]["body_text"] == "Answer" and bodies[4]["data"]["message"]["kind"] == "customer"
    assert bodies[-1]["data"]["old"] == "technical" and bodies[-1]["data"]["new"] == "sales"
    # The ticket now belongs to Sales: Technical's endpoint hears nothing more of it.
    services.ticket_reply(ticket=ticket, author=world.sales_agent, body_text="Sales here")
    commit()
    assert len(receiver.calls) == 7


def test_only_selected_events_and_departments(world, receiver, commit):
    WebhookEndpoint.objects.create(name="Sales", department=world.sales, url=receiver.url, events=["ticket.created"])
    WebhookEndpoint.objects.create(name="Off", url=receiver.url, events=["ticket.created"], is_active=False)
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="x")
    commit()
    assert receiver.calls == []
    make_ticket(world.customer, world.sales, acknowledge=False)
    commit()
    assert receiver.events() == ["ticket.created"]


def test_escalation_by_the_sla_sweep_is_posted(world, policy, clock, endpoint, receiver, commit):  # noqa: F811
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(events=["ticket.escalated"])
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 1))  # first response was due at 11:00
    sla.sweep()
    commit()
    assert receiver.events() == ["ticket.escalated"]
    payload = json.loads(receiver.calls[0][1])
    assert payload["ticket"]["number"] == ticket.number
    assert payload["data"] == {"level": 1, "target": "first_response"}


def test_delivery_log_in_the_admin(world, endpoint, receiver, commit, client_for):
    make_ticket(world.customer, world.technical, subject="Logged", acknowledge=False)
    commit()
    admin = client_for(world.admin)
    page = admin.get("/admin/webhooks/webhookdelivery/").content.decode()
    assert "ticket.created" in page and "Billing" in page
    delivery = WebhookDelivery.objects.get()
    assert admin.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").status_code == 200
    assert admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").status_code == 200


def test_admin_configures_an_endpoint_with_its_events(world, client_for, receiver):
    response = client_for(world.admin).post("/admin/webhooks/webhookendpoint/add/", {
        "name": "Monitoring", "department": world.sales.pk, "url": receiver.url,
        "events": ["ticket.created", "ticket.escalated"], "secret": "abc", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get(name="Monitoring")
    assert endpoint.events == ["ticket.created", "ticket.escalated"] and endpoint.department == world.sales

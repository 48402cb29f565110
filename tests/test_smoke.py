"""Runs on PostgreSQL and, via `make test-sqlite`, on the embedded SQLite default."""

import pytest
from django.core import mail
from django.core.management import call_command

from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.smoke, pytest.mark.django_db(transaction=True)]


def test_seed_demo_is_idempotent_and_logins_work(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = Ticket.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert Ticket.objects.count() == first >= 24
    assert client.login(username="anna@example.com", password="demo")
    page = client.get("/agent/")
    assert page.status_code == 200
    assert "Сайт не открывается" in page.content.decode() or "#" in page.content.decode()
    assert not client.login(username="former@example.com", password="demo")  # departed staff


def test_home_page_and_reply_mail_on_embedded_default(client, world):
    assert client.get("/").status_code == 200
    ticket = services.ticket_create(
        customer=world.customer, department=world.technical, subject="Сервер недоступен", body_text="Помогите"
    )
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Уже чиним")
    subjects = [m.subject for m in mail.outbox]
    assert f"[#{ticket.number}] Сервер недоступен" in subjects

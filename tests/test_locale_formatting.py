"""Dates, times and numbers in the user's language and time zone (issue 10)."""

import datetime

import pytest

from tests.factories import make_ticket
from tickets.attachments import IncomingFile
from tickets.models import Message

# 09:30 UTC on 5 March 2026: 12:30 in Moscow (UTC+3), 10:30 in Berlin (CET, UTC+1), 11:30 in Kyiv (EET).
WHEN = datetime.datetime(2026, 3, 5, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def ticket(world):
    log = IncomingFile(filename="router.log", data=b"line of log\n" * 128)  # 1536 bytes = 1.5 KB
    t = make_ticket(world.customer, world.technical, subject="Нет связи", files=[log])
    Message.objects.filter(ticket=t).update(created_at=WHEN)
    return t


@pytest.mark.parametrize(
    ("language", "zone", "shown", "size", "not_shown"),
    [
        ("ru", "Europe/Moscow", "5 марта 2026 г. 12:30", "1,5\xa0КБ", "9:30"),
        ("de", "Europe/Berlin", "5. März 2026 10:30", "1,5\xa0KB", "9:30"),
        ("uk", "Europe/Kyiv", "05 березня 2026 р. 11:30", "1,5\xa0Кб", "9:30"),
        ("en", "America/New_York", "March 5, 2026, 4:30 a.m.", "1.5\xa0KB", "9:30"),
    ],
)
def test_customer_ticket_page_shows_local_time_in_user_format(
    world, client_for, ticket, language, zone, shown, size, not_shown
):
    world.customer.language, world.customer.time_zone = language, zone
    world.customer.save()
    html = client_for(world.customer).get(f"/tickets/{ticket.number}/").content.decode()
    assert shown in html
    assert size in html
    assert not_shown not in html


def test_agent_ticket_page_uses_agents_own_zone_and_language(world, client_for, ticket):
    agent = world.tech_manager  # Russian-speaking manager
    agent.time_zone = "Asia/Vladivostok"  # UTC+10
    agent.save()
    html = client_for(agent).get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert "5 марта 2026 г. 19:30" in html


def test_unknown_time_zone_falls_back_to_server_zone(world, client_for, ticket):
    world.customer.time_zone = "Mars/Olympus_Mons"
    world.customer.save()
    html = client_for(world.customer).get(f"/tickets/{ticket.number}/").content.decode()
    assert "5 марта 2026 г. 9:30" in html  # settings.TIME_ZONE is UTC


@pytest.fixture
def dated_email_template(settings, tmp_path):
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "dated_subject.txt").write_text("{% load i18n %}{% translate 'Status' %}")
    (tmp_path / "emails" / "dated_body.txt").write_text('{{ when|date:"DATETIME_FORMAT" }}')
    (tmp_path / "emails" / "dated_body.html").write_text('<p>{{ when|date:"SHORT_DATETIME_FORMAT" }}</p>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


@pytest.mark.parametrize(
    ("language", "zone", "subject", "text", "html"),
    [
        ("ru", "Europe/Moscow", "Статус", "5 марта 2026 г. 12:30", "05.03.2026 12:30"),
        ("de", "Europe/Berlin", "Status", "5. März 2026 10:30", "05.03.2026 10:30"),
        ("uk", "", "Статус", "05 березня 2026 р. 09:30", "05.03.2026 09:30"),
        ("ru", "No/Such_Zone", "Статус", "5 марта 2026 г. 9:30", "05.03.2026 09:30"),
    ],
)
def test_email_dates_in_recipients_language_and_zone(dated_email_template, language, zone, subject, text, html):
    from mailgateway.outbound import render_email

    rendered = render_email("dated", {"when": WHEN}, language, zone)
    assert rendered == (subject, text, f"<p>{html}</p>")

"""Show original, admin actions and raw download, the mailbox health banner, the anymail webhook."""

import hashlib
import hmac
import time

import pytest
from django.urls import reverse

from mailgateway import imap
from mailgateway.models import InboundEmail, Mailbox, OutboundEmail
from tests.factories import make_ticket
from tickets.models import Ticket

from .mails import mail

pytestmark = pytest.mark.django_db


def original_url(row):
    return reverse("message_original", args=[row.ticket.number, row.message_id])


def test_show_original_downloads_the_raw_mail_for_those_who_see_the_ticket(world, ingest, client_for):
    raw = mail(subject="Original please", body="> quoted\nnew text")
    row = ingest(raw)
    for user in (world.customer, world.tech_agent, world.admin):
        response = client_for(user).get(original_url(row))
        assert response.status_code == 200
        assert response["Content-Type"] == "message/rfc822"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response) == raw


def test_show_original_is_404_for_others(world, ingest, client_for, client):
    row = ingest(mail())
    for user in (world.other_customer, world.sales_agent):
        assert client_for(user).get(original_url(row)).status_code == 404
    other = make_ticket(world.other_customer, world.technical)
    wrong_ticket = reverse("message_original", args=[other.number, row.message_id])
    assert client_for(world.other_customer).get(wrong_ticket).status_code == 404
    assert client.get(original_url(row)).status_code == 302  # to the login page


def test_quoted_text_is_collapsed_but_kept(world, ingest):
    from django.template.loader import render_to_string

    body = "Thanks, that helped.\n\nOn Mon, 1 Jan 2024, Support wrote:\n> Restart the router\n> please"
    row = ingest(mail(body=body))
    html = render_to_string("mailgateway/_message_body.html", {"item": row.message, "originals": {row.message_id}})
    new, _, quoted = html.partition("<details")
    assert "Thanks, that helped." in new and "Restart the router" not in new
    assert "Restart the router" in quoted
    assert original_url(row) in html


def test_admin_lists_inbound_mail_and_downloads_raw(world, ingest, client_for):
    raw = mail(subject="Admin sees me")
    row = ingest(raw)
    admin = client_for(world.admin)
    listing = admin.get(reverse("admin:mailgateway_inboundemail_changelist") + "?status=processed")
    assert listing.status_code == 200 and "Admin sees me" in listing.content.decode()
    download = admin.get(reverse("admin:mailgateway_inboundemail_raw", args=[row.pk]))
    assert download.status_code == 200 and b"".join(download) == raw
    assert admin.get(reverse("admin:mailgateway_inboundemail_change", args=[row.pk])).status_code == 200
    assert client_for(world.tech_agent).get(reverse("admin:mailgateway_inboundemail_raw", args=[row.pk])).status_code == 302


def test_admin_retry_action_processes_quarantined_mail(world, ingest, client_for):
    from departments.models import Department

    Department.objects.update(is_active=False)
    row = ingest(mail(subject="Retry me"))
    assert row.status == "quarantined"
    Department.objects.update(is_active=True)
    response = client_for(world.admin).post(
        reverse("admin:mailgateway_inboundemail_changelist"), {"action": "retry", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "processed" and Ticket.objects.filter(subject="Retry me").exists()


def test_admin_accept_action_appends_held_mail(world, ingest, client_for):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="stranger@example.org", subject=f"Re: [#{ticket.number}] x"))
    client_for(world.admin).post(
        reverse("admin:mailgateway_inboundemail_changelist"), {"action": "accept", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert row.action == "appended" and ticket.messages.count() == 2


def test_failing_mailbox_shows_banner_to_agents_and_mails_admins(world, client_for, settings, monkeypatch):
    settings.HELPDESK_MAILBOX_ALERT_AFTER = 2
    monkeypatch.delenv("IMAP_BROKEN_PASSWORD", raising=False)
    Mailbox.objects.create(name="Broken box", host="127.0.0.1", port=1, username="x", password_env="IMAP_BROKEN_PASSWORD")
    home = reverse("agent_queue")
    assert "Broken box" not in client_for(world.tech_agent).get(home).content.decode()
    imap.poll_all()
    assert not OutboundEmail.objects.filter(kind="mailbox_failing").exists()
    imap.poll_all()
    imap.poll_all()  # a third failure does not alert again
    alerts = OutboundEmail.objects.filter(kind="mailbox_failing")
    assert [a.to for a in alerts] == [["admin@helpdesk.example"]]
    assert "IMAP_BROKEN_PASSWORD" in alerts[0].body_text
    page = client_for(world.tech_agent).get(home).content.decode()
    assert "Broken box" in page and "Incoming mail is not being fetched" in page
    assert "Broken box" not in client_for(world.customer).get(reverse("ticket_list")).content.decode()


# --- anymail (Mailgun) inbound webhook -------------------------------------------------------------

SIGNING_KEY = "key-test-signing-0123456789"


def mailgun_post(client, raw: bytes, key: str = SIGNING_KEY):
    timestamp, token = str(int(time.time())), "tok" + hashlib.md5(raw).hexdigest()
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "body-mime": raw.decode("utf-8"),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "recipient": "support@helpdesk.example",
        "sender": "ivan@customer.example",
    }
    return client.post("/anymail/mailgun/inbound_mime/", data)


@pytest.fixture
def mailgun(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": None}


def test_mailgun_inbound_webhook_stores_and_processes(world, client, mailgun, django_capture_on_commit_callbacks):
    raw = mail(subject="Через Mailgun", message_id="<mg-1@customer.example>")
    with django_capture_on_commit_callbacks(execute=True):
        response = mailgun_post(client, raw)
    assert response.status_code == 200
    row = InboundEmail.objects.get()
    assert row.source == "webhook:mailgun" and row.message_id_header == "mg-1@customer.example"
    assert row.status == "processed" and row.ticket.subject == "Через Mailgun"
    with django_capture_on_commit_callbacks(execute=True):
        assert mailgun_post(client, raw).status_code == 200  # the ESP retries: still one ticket
    assert Ticket.objects.count() == 1


def test_mailgun_webhook_with_bad_signature_is_refused(world, client, mailgun):
    response = mailgun_post(client, mail(), key="wrong-key")
    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


# --- held mail in the agent UI, inline images, participants removal -------------------------------


def test_agent_accepts_held_mail_from_the_ticket(world, ingest, client_for):
    from django.template.loader import render_to_string

    from mailgateway import selectors

    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="stranger@example.org", subject=f"Re: [#{ticket.number}] x"))
    held = selectors.held_mail(ticket)
    html = render_to_string("mailgateway/_held_mail.html", {"held": held, "ticket": ticket})
    accept = reverse("held_mail_accept", args=[ticket.number, row.pk])
    assert "stranger@example.org" in html and accept in html
    assert client_for(world.sales_agent).post(accept).status_code == 404
    assert client_for(world.customer).post(accept).status_code == 404
    assert client_for(world.tech_agent).get(accept).status_code == 405
    response = client_for(world.tech_agent).post(accept)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.action == "appended" and selectors.held_mail(ticket) == []
    assert client_for(world.tech_agent).post(accept).status_code == 404  # already handled


def test_agent_rejects_held_mail_into_new_ticket(world, ingest, client_for):
    ticket = make_ticket(world.customer, world.technical)
    row = ingest(mail(sender="stranger@example.org", subject=f"Re: [#{ticket.number}] x"))
    client_for(world.tech_agent).post(reverse("held_mail_reject", args=[ticket.number, row.pk]))
    row.refresh_from_db()
    assert row.action == "created" and row.ticket.customer.email == "stranger@example.org"


def test_inline_cid_images_point_at_their_attachments(world, ingest):
    from django.template import Context, Template

    from .mails import PNG

    row = ingest(mail(html='<p>Look <img src="cid:shot1@x"></p>', inline=[("shot.png", PNG, "image/png", "shot1@x")]))
    att = row.message.attachments.get()
    html = Template("{% load mailgateway %}{{ m|inline_html }}").render(Context({"m": row.message}))
    assert f'src="{reverse("attachment_named", args=[att.pk, "shot.png"])}"' in html
    assert "cid:" not in html


def test_removed_participant_is_no_longer_copied_and_is_held(world, ingest):
    from tickets import services as ticket_services

    row = ingest(mail(cc="boss@customer.example"))
    assert ticket_services.ticket_remove_participant(ticket=row.ticket, email="Boss@customer.example", actor=world.tech_agent)
    later = ingest(mail(sender="boss@customer.example", subject=f"Re: [#{row.ticket.number}] x"))
    assert later.status == "held"


def test_html_reply_quote_is_split_for_display(world, ingest):
    from mailgateway.selectors import display_body

    html = (
        "<div>Works now, thanks!</div><div class=\"gmail_quote\"><div>On Mon, Support wrote:</div>"
        "<blockquote class=\"gmail_quote\">Restart the router</blockquote></div>"
    )
    row = ingest(mail(body="Works now, thanks!\n\nOn Mon, Support wrote:\n> Restart the router", html=html))
    parts = display_body(row.message)
    assert "Works now" in parts.new_html and "Restart the router" not in parts.new_html
    assert "Restart the router" in parts.quoted_html
    assert "Restart the router" in row.message.body_html  # stored in full
    from django.template.loader import render_to_string

    rendered = render_to_string("mailgateway/_message_body.html", {"item": row.message, "originals": set()})
    before, _, inside = rendered.partition("<details")
    assert "Works now" in before and "Restart the router" not in before and "Restart the router" in inside


def test_poll_mailboxes_command_and_beat_task_cover_every_active_mailbox(world, monkeypatch):
    import io

    from django.core.management import call_command

    from mailgateway import tasks

    monkeypatch.delenv("IMAP_NOPE", raising=False)
    one = Mailbox.objects.create(name="One", host="127.0.0.1", port=1, username="a", password_env="IMAP_NOPE")
    Mailbox.objects.create(name="Off", host="127.0.0.1", port=1, username="b", password_env="IMAP_NOPE", is_active=False)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("poll_mailboxes", stdout=out)
    assert out.getvalue().strip() == "One: failed"
    assert tasks.poll_mailboxes() == 1
    one.refresh_from_db()
    assert one.consecutive_failures == 2 and "IMAP_NOPE" in one.last_error


def test_agent_ticket_page_shows_originals_and_held_mail_from_one_query(world, ingest, client_for):
    """The ticket page reads held mail and the messages with an original together
    (selectors.held_mail_and_originals): each still shows where it belongs, and only there."""
    row = ingest(mail(subject="Printer on fire", body="It burns"))
    ticket = row.ticket
    held = ingest(mail(sender="stranger@example.org", subject=f"Re: [#{ticket.number}] x"))
    other = ingest(mail(subject="Another matter", body="Different"))
    page = client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    assert original_url(row) in page
    assert "stranger@example.org" in page and reverse("held_mail_accept", args=[ticket.number, held.pk]) in page
    assert other.ticket_id != ticket.pk and original_url(other) not in page

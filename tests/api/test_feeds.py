"""Atom/RSS feeds of one's own tickets, authenticated by a secret URL that the user can renew."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services
from tickets.feeds import feed_token

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def conversation(world):
    ticket = make_ticket(world.customer, world.technical, subject="Почта не уходит", acknowledge=False)
    services.ticket_note(ticket=ticket, author=world.tech_agent, body_text="internal: SPF record broken")
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Fixed the SPF record.")
    make_ticket(world.other_customer, world.technical, subject="Alice's ticket", acknowledge=False)
    return ticket


def atom_entries(response) -> list[ET.Element]:
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:  # RFC 4287: every entry has an id, a title, an updated time and a link
        assert all(entry.find(f"{ATOM}{tag}") is not None for tag in ("id", "title", "updated", "link"))
    return entries


def test_customer_feed_is_valid_atom_with_his_public_messages_only(world, client, conversation):
    response = client.get(reverse("my_tickets_atom", args=[feed_token(world.customer)]))
    entries = atom_entries(response)
    text = response.content.decode()
    assert len(entries) == 2 and "Fixed the SPF record." in text and "Почта не уходит" in text
    assert "SPF record broken" not in text and "Alice" not in text
    link = entries[0].find(f"{ATOM}link").get("href")
    assert f"/tickets/{conversation.number}/" in link and "/agent/" not in link


def test_agent_feed_includes_notes_of_his_departments(world, client, conversation):
    entries = atom_entries(client.get(reverse("my_tickets_atom", args=[feed_token(world.tech_agent)])))
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert len(entries) == 4 and any("Internal note" in t for t in titles)
    assert atom_entries(client.get(reverse("my_tickets_atom", args=[feed_token(world.sales_agent)]))) == []


def test_rss_variant(world, client, conversation):
    response = client.get(reverse("my_tickets_rss", args=[feed_token(world.customer)]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and len(root.findall("channel/item")) == 2


def test_regenerating_the_feed_key_on_the_profile_page_revokes_old_urls(world, client, client_for, conversation):
    old = reverse("my_tickets_atom", args=[feed_token(world.customer)])
    profile = client_for(world.customer)
    assert old in profile.get(reverse("profile")).content.decode()
    assert profile.post(reverse("feed_key_regenerate")).status_code == 302
    world.customer.refresh_from_db()
    new = reverse("my_tickets_atom", args=[feed_token(world.customer)])
    assert new != old and new in profile.get(reverse("profile")).content.decode()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_agent_queue_feed_follows_the_feed_key_too(world, client, conversation):
    from accounts.services import regenerate_feed_key

    old = reverse("agent_feed", args=[feed_token(world.tech_agent)])
    assert client.get(old).status_code == 200
    regenerate_feed_key(world.tech_agent)
    assert client.get(old).status_code == 404


def test_bad_or_deactivated_tokens_are_404(world, client, conversation):
    token = feed_token(world.customer)
    assert client.get(reverse("my_tickets_atom", args=[token[:-1] + "x"])).status_code == 404
    assert client.get(reverse("my_tickets_atom", args=["nonsense"])).status_code == 404
    world.customer.is_active = False
    world.customer.save()
    assert client.get(reverse("my_tickets_atom", args=[token])).status_code == 404

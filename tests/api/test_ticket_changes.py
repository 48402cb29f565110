"""Creating and working tickets through the API: the same services as the web, so the same pages and
mails follow."""

import io

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import make_ticket
from tickets.models import Message, Ticket, TicketEvent

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82"
)


def upload(name: str, data: bytes):
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.mark.smoke
def test_customer_creates_a_ticket_that_agents_see_and_that_is_acknowledged(world, api_for, client_for, sent_mail):
    api = api_for(world.customer)
    response = api.post(
        "/api/v1/tickets/",
        {"department": "technical", "subject": "VPS is down", "body": "Since 10:00 nothing answers."},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["subject"] == "VPS is down" and data["status"] == "new" and data["channel"] == "api"
    assert data["messages"][0]["body_text"] == "Since 10:00 nothing answers."
    page = client_for(world.tech_agent).get(reverse("agent_ticket", args=[data["number"]])).content.decode()
    assert "VPS is down" in page and "Since 10:00 nothing answers." in page
    mails = [m for m in sent_mail() if world.customer.email in m.to]
    assert len(mails) == 1 and data["reference"] in mails[0].subject


def test_agent_reply_reaches_the_customer_by_mail_and_shows_on_the_ticket_page(world, api_for, client_for, sent_mail):
    ticket = make_ticket(world.customer, world.technical, subject="Backup failed", acknowledge=False)
    response = api_for(world.tech_agent).post(
        f"/api/v1/tickets/{ticket.number}/replies/",
        {"body": "Restarted the backup job.", "status": "resolved"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "reply" and response.json()["author"]["name"] == "Anna Tech"
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    mails = [m for m in sent_mail() if m.to == [world.customer.email]]
    assert len(mails) == 1 and "Restarted the backup job." in mails[0].body
    page = client_for(world.tech_agent).get(reverse("agent_ticket", args=[ticket.number])).content.decode()
    assert "Restarted the backup job." in page
    cabinet = client_for(world.customer).get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    assert "Restarted the backup job." in cabinet


def test_customer_message_reopens_his_resolved_ticket(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    api_for(world.tech_agent).patch(f"/api/v1/tickets/{ticket.number}/", {"status": "resolved"},
                                    content_type="application/json")
    response = api_for(world.customer).post(f"/api/v1/tickets/{ticket.number}/replies/", {"body": "Still broken"},
                                            content_type="application/json")
    assert response.status_code == 201 and response.json()["kind"] == "customer"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_agent_files_a_ticket_on_behalf_of_a_new_customer(world, api_for):
    response = api_for(world.tech_agent).post(
        "/api/v1/tickets/",
        {"department": "technical", "subject": "Phoned in", "body": "Customer called about DNS.",
         "customer_email": "New.Person@Example.com", "customer_name": "New Person", "priority": 3},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert ticket.customer.email == "new.person@example.com" and ticket.priority == 3
    assert ticket.messages.get().author == world.tech_agent
    assert not User.objects.get(email="new.person@example.com").has_usable_password()


def test_agent_cannot_file_into_a_department_he_does_not_work(world, api_for):
    response = api_for(world.sales_agent).post(
        "/api/v1/tickets/",
        {"department": "technical", "subject": "x", "body": "y", "customer_email": "a@example.com"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"department": ["No such department."]}


def test_customer_may_not_set_priority_or_file_for_others(world, api_for):
    response = api_for(world.customer).post(
        "/api/v1/tickets/", {"department": "technical", "subject": "x", "body": "y", "priority": 4},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_note_status_priority_assignee_through_the_services(world, api_for, sent_mail):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    api = api_for(world.tech_manager)
    note = api.post(f"/api/v1/tickets/{ticket.number}/notes/", {"body": "@tech look"}, content_type="application/json")
    assert note.status_code == 201 and note.json()["kind"] == "note"
    response = api.patch(
        f"/api/v1/tickets/{ticket.number}/",
        {"status": "open", "priority": 4, "assignee": world.tech_agent.pk},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "open" and data["priority"] == 4 and data["assignee"]["id"] == world.tech_agent.pk
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {"status", "priority", "assigned"} <= kinds
    assert any(m.to == [world.tech_agent.email] for m in sent_mail())  # assignment and mention mails


def test_assigning_someone_outside_the_department_is_refused_with_the_services_message(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    response = api_for(world.tech_agent).patch(
        f"/api/v1/tickets/{ticket.number}/", {"assignee": world.sales_agent.pk}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "status": 409, "code": "not_allowed", "message": "Only an agent of the ticket's department can be assigned."
    }


def test_customer_can_close_but_not_reprioritise(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    api = api_for(world.customer)
    assert api.patch(f"/api/v1/tickets/{ticket.number}/", {"priority": 4}, content_type="application/json").status_code == 403
    response = api.patch(f"/api/v1/tickets/{ticket.number}/", {"status": "closed"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_transfer_split_and_merge(world, api_for):
    first = make_ticket(world.customer, world.technical, subject="First", acknowledge=False)
    second = make_ticket(world.customer, world.technical, subject="Second", acknowledge=False)
    api = api_for(world.tech_manager)  # works Technical support and Triage
    message = first.messages.get()
    split = api.post(f"/api/v1/tickets/{first.number}/split/",
                     {"message": message.pk, "department": "triage", "subject": "Split off"},
                     content_type="application/json")
    assert split.status_code == 201 and split.json()["department"]["slug"] == "triage"
    merged = api.post(f"/api/v1/tickets/{second.number}/merge/", {"target": first.number},
                      content_type="application/json")
    assert merged.status_code == 200 and merged.json()["number"] == first.number
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    moved = api.post(f"/api/v1/tickets/{first.number}/transfer/", {"department": "sales", "reason": "billing"},
                     content_type="application/json")
    assert moved.status_code == 200 and moved.json()["department"]["slug"] == "sales"
    assert api.get(f"/api/v1/tickets/{first.number}/").status_code == 404  # no longer his department


def test_attachments_upload_and_permission_checked_download(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    response = api_for(world.customer).post(
        f"/api/v1/tickets/{ticket.number}/replies/", {"body": "screenshot", "files": [upload("shot.png", PNG)]}
    )
    assert response.status_code == 201, response.content
    attachment = response.json()["attachments"][0]
    assert attachment["filename"] == "shot.png" and attachment["content_type"] == "image/png"
    url = f"/api/v1/attachments/{attachment['id']}/"
    download = api_for(world.tech_agent).get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert api_for(world.other_customer).get(url).status_code == 404
    assert api_for(world.sales_agent).get(url).status_code == 404


def test_internal_note_attachment_is_404_for_the_customer(world, api_for):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    note = api_for(world.tech_agent).post(
        f"/api/v1/tickets/{ticket.number}/notes/", {"body": "log", "files": [upload("server.log", b"error 42\n")]}
    )
    assert note.status_code == 201, note.content
    url = f"/api/v1/attachments/{note.json()['attachments'][0]['id']}/"
    assert api_for(world.customer).get(url).status_code == 404


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("evil.png", b"MZ\x90\x00" + b"\x00" * 200, "not an allowed file type"),
        ("notes.txt", b"plain text is for agents only", "only PNG, GIF and JPEG images and PDF documents"),
    ],
)
def test_customer_uploads_use_the_web_allow_list(world, api_for, name, data, expected):
    ticket = make_ticket(world.other_customer, world.technical, acknowledge=False)  # English messages
    response = api_for(world.other_customer).post(
        f"/api/v1/tickets/{ticket.number}/replies/", {"body": "file", "files": [upload(name, data)]}
    )
    assert response.status_code == 400
    assert expected in response.json()["error"]["fields"]["files"][0]
    assert not Message.objects.filter(ticket=ticket, body_text="file").exists()


def test_canned_responses_filled_in_for_a_ticket(world, api_for):
    from tickets.models import CannedResponse

    CannedResponse.objects.create(title="Hello", body="Dear {customer_name}, about {ticket_reference}",
                                  department=world.technical)
    CannedResponse.objects.create(title="Sales only", body="x", department=world.sales)
    ticket = make_ticket(world.other_customer, world.technical, acknowledge=False)
    api = api_for(world.tech_agent)
    listed = api.get("/api/v1/canned-responses/").json()["results"]
    assert [c["title"] for c in listed] == ["Hello"]
    filled = api.get(f"/api/v1/tickets/{ticket.number}/canned-responses/").json()
    assert filled == [{"id": listed[0]["id"], "title": "Hello", "department": "technical",
                       "body": f"Dear Alice Other, about {ticket.reference}"}]
    assert api_for(world.other_customer).get(f"/api/v1/tickets/{ticket.number}/canned-responses/").status_code == 404

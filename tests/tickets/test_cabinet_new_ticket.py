import pytest
from django.core import mail
from django.urls import reverse

from tests.cabinet_files import ELF, PDF, english, png_bytes, upload  # noqa: F401 - english is a fixture
from tests.factories import ProductFactory
from tickets.models import Attachment, Message, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

URL = reverse("ticket_new")


def post_ticket(client, world, **overrides):
    data = {
        "category": str(world.technical.pk),
        "product": "",
        "subject": "example.com shows error 500",
        "body": "Since this morning the site is down.",
        "f_site": "example.com",
        "f_error": "HTTP 500 Internal Server Error",
        "f_since": "today 10:00",
        "f_changed": "Updated WordPress",
        "f_tried": "Restarted PHP",
        "f_url": "https://example.com/shop",
        "f_invoice": "INV-1 (ignored for technical)",
        **overrides,
    }
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def test_form_offers_selectable_departments_triage_and_active_products(client_for, world):
    ProductFactory(name="VPS-4")
    ProductFactory(name="Old plan", is_active=False)
    page = client_for(world.customer).get(URL).content.decode()
    assert "Technical support" in page and "Sales" in page
    assert "let support route it" in page and ">Triage<" not in page
    assert "VPS-4" in page and "Old plan" not in page and "Question not related to products" in page
    assert "One problem per request" in page  # the advice
    assert 'maxlength="120"' in page
    for label in (
        "Site or server name",
        "What exactly happens",
        "Since when",
        "What changed just before",
        "What you have already tried",
        "Link where we can see the problem",
        "Invoice code and number",
        "Intended payment method",
        "What exactly goes wrong",
    ):
        assert label in page
    assert 'data-form-kind="technical"' in page and 'data-form-kind="sales"' in page
    assert "<script>" not in page  # no inline script (strict CSP)


@pytest.mark.smoke  # the cabinet works on the embedded SQLite default too
def test_technical_ticket_with_screenshot(client_for, world, sent_mail):
    client = client_for(world.customer)
    product = ProductFactory(name="Shared hosting")
    response = post_ticket(
        client, world, product=str(product.pk), attachments=[upload("screen.png", png_bytes())]
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "ticket_detail", args=[ticket.number]
    )
    assert (ticket.customer, ticket.department, ticket.product, ticket.channel) == (
        world.customer,
        world.technical,
        product,
        "web",
    )
    assert ticket.fields == {
        "site": "example.com",
        "error": "HTTP 500 Internal Server Error",
        "since": "today 10:00",
        "changed": "Updated WordPress",
        "tried": "Restarted PHP",
        "url": "https://example.com/shop",
    }
    att = Attachment.objects.get()
    assert (att.filename, att.content_type, att.message.ticket) == ("screen.png", "image/png", ticket)
    assert any(m.to == [world.customer.email] for m in sent_mail())  # acknowledgement
    page = client.get(response["Location"]).content.decode()
    assert "HTTP 500 Internal Server Error" in page and "Site or server name" in page and "screen.png" in page
    assert "INV-1" not in page


def test_sales_ticket_keeps_only_sales_fields(client_for, world):
    client = client_for(world.customer)
    post_ticket(
        client,
        world,
        category=str(world.sales.pk),
        f_invoice="INV-2024-7",
        f_payment_method="Card",
        f_problem="Card declined",
    )
    ticket = Ticket.objects.get()
    assert ticket.department == world.sales
    assert ticket.fields == {"invoice": "INV-2024-7", "payment_method": "Card", "problem": "Card declined"}
    assert ticket.product is None


def test_dont_know_category_goes_to_triage_without_details(client_for, world):
    post_ticket(client_for(world.customer), world, category="triage")
    ticket = Ticket.objects.get()
    assert ticket.department == world.triage and ticket.fields == {}


def test_non_selectable_or_triage_department_id_is_refused(client_for, world):
    response = post_ticket(client_for(world.other_customer), world, category=str(world.triage.pk))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Ticket.objects.exists()


def test_subject_is_limited_to_120_characters(client_for, world):
    response = post_ticket(client_for(world.other_customer), world, subject="x" * 121)
    assert response.status_code == 200 and "at most 120" in response.content.decode()
    assert not Ticket.objects.exists()


def test_bad_link_field_is_refused(client_for, world):
    response = post_ticket(client_for(world.customer), world, f_url="javascript:alert(1)")
    assert response.status_code == 200 and not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("screenshot.png", PDF, "screenshot.png is named like image/png but contains application/pdf"),
        ("screenshot.png", ELF, "screenshot.png is not an allowed file type"),
        ("setup.exe", ELF, "setup.exe is not an allowed file type"),
        (
            "notes.txt",
            b"plain text notes\n" * 10,
            "notes.txt: only PNG, GIF and JPEG images and PDF documents",
        ),
    ],
)
def test_attachment_type_is_checked_by_content_and_nothing_is_saved(client_for, world, name, data, expected):
    files = [upload("good.png", png_bytes()), upload(name, data)]
    response = post_ticket(client_for(world.customer), world, attachments=files)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Ticket.objects.exists() and not Message.objects.exists() and not Attachment.objects.exists()
    assert mail.outbox == []


def test_pdf_and_several_files_are_accepted(client_for, world):
    files = [
        upload("invoice.pdf", PDF, "application/pdf"),
        upload("a.png", png_bytes("blue")),
        upload("b.png", png_bytes("green")),
    ]
    post_ticket(client_for(world.customer), world, attachments=files)
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["a.png", "b.png", "invoice.pdf"]


def test_attachment_size_is_limited(client_for, world, settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 100
    response = post_ticket(
        client_for(world.customer), world, attachments=[upload("big.png", png_bytes() + b"\0" * 200)]
    )
    assert "big.png is larger than" in response.content.decode()
    assert not Ticket.objects.exists()


def test_ticket_creation_is_rate_limited_per_customer(client_for, world, settings):
    settings.HELPDESK_CUSTOMER_TICKETS_PER_HOUR = 2
    client = client_for(world.customer)
    for _ in range(2):
        assert post_ticket(client, world).status_code == 302
    response = post_ticket(client, world)
    assert response.status_code == 200
    assert "You have opened 2 requests in the last hour" in response.content.decode()
    assert Ticket.objects.count() == 2
    assert post_ticket(client_for(world.other_customer), world).status_code == 302  # per customer


def test_new_ticket_requires_login(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]

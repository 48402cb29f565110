"""A department's reply signature in the customer's language (issue 10)."""

import pytest
from django.db import IntegrityError, transaction

from departments.models import DepartmentSignature
from tests.factories import make_ticket
from tickets import services


@pytest.fixture
def signatures(world):
    world.technical.signature = "-- Technical support team"
    world.technical.save()
    DepartmentSignature.objects.create(department=world.technical, language="ru", text="-- Команда техподдержки")
    DepartmentSignature.objects.create(department=world.technical, language="de", text="-- Ihr Technik-Team")
    return world


def test_signature_for_language_falls_back_to_default(signatures):
    dept = signatures.technical
    assert dept.signature_for("ru") == "-- Команда техподдержки"
    assert dept.signature_for("de") == "-- Ihr Technik-Team"
    assert dept.signature_for("uk") == "-- Technical support team"
    assert dept.signature_for("") == "-- Technical support team"


def test_one_signature_per_department_and_language(signatures):
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartmentSignature.objects.create(department=signatures.technical, language="ru", text="again")


def _reply_mail(world, customer, sent_mail):
    ticket = make_ticket(customer, world.technical)
    sent_mail().clear()
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Please restart the router.")
    [mail] = [m for m in sent_mail() if customer.email in m.to]
    return mail


def test_reply_to_russian_customer_carries_russian_signature(signatures, sent_mail):
    mail = _reply_mail(signatures, signatures.customer, sent_mail)
    assert "-- Команда техподдержки" in mail.body
    assert "Technical support team" not in mail.body
    html = mail.alternatives[0][0]
    assert "Команда техподдержки" in html


def test_reply_to_customer_without_own_signature_language_gets_default(signatures, sent_mail):
    signatures.other_customer.language = "uk"
    signatures.other_customer.save()
    mail = _reply_mail(signatures, signatures.other_customer, sent_mail)
    assert "-- Technical support team" in mail.body
    assert "Ihr Technik-Team" not in mail.body


def test_admin_edits_signatures_per_language_inline(signatures, client_for):
    client = client_for(signatures.admin)
    url = f"/admin/departments/department/{signatures.technical.pk}/change/"
    html = client.get(url).content.decode()
    assert 'name="signatures-TOTAL_FORMS"' in html and "Команда техподдержки" in html
    signatures.admin.language = "ru"
    signatures.admin.save()
    assert "Подписи на других языках" in client.get(url).content.decode()

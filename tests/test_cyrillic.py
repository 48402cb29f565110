"""Cyrillic end to end: attachment names (upload, download, mail), subjects and bodies in mail, sorting."""

import email
import email.policy
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory, make_ticket
from tickets import services
from tickets.attachments import IncomingFile
from tickets.collation import natural_order
from tickets.models import Attachment, Ticket

FILENAME = "Счёт-фактура №5 (копия).txt"
CONTENT = "Сумма: 1 500 ₽\n".encode()


@pytest.fixture
def ticket_with_file(world):
    return make_ticket(
        world.customer,
        world.technical,
        subject="Не приходит счёт",
        body="Здравствуйте! Прикладываю счёт.",
        files=[IncomingFile(filename=FILENAME, data=CONTENT)],
    )


def test_cyrillic_attachment_downloads_with_rfc6266_filename(world, client_for, ticket_with_file):
    att = Attachment.objects.get(message__ticket=ticket_with_file)
    assert att.filename == FILENAME
    response = client_for(world.customer).get(reverse("attachment_named", args=[att.pk, att.filename]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    disposition = response["Content-Disposition"]
    assert f"filename*=utf-8''{quote(FILENAME)}" in disposition
    disposition.encode("ascii")  # a header value must stay ASCII: the name travels only percent-encoded


def test_cyrillic_attachment_link_on_ticket_page_round_trips(world, client_for, ticket_with_file):
    client = client_for(world.customer)
    page = client.get(f"/tickets/{ticket_with_file.number}/").content.decode()
    att = Attachment.objects.get(message__ticket=ticket_with_file)
    url = reverse("attachment_named", args=[att.pk, att.filename])
    assert f'href="{url}"' in page and FILENAME in page
    assert client.get(url).status_code == 200


def test_cyrillic_attachment_is_not_served_to_other_customer(world, client_for, ticket_with_file):
    att = Attachment.objects.get(message__ticket=ticket_with_file)
    assert client_for(world.other_customer).get(reverse("attachment", args=[att.pk])).status_code == 404


def _subject(parsed) -> str:
    return str(parsed["Subject"])  # exactly: no leading space left over from a fold after "Subject:"


def test_cyrillic_upload_through_the_cabinet_form_downloads_with_its_name(world, client_for):
    from tests.cabinet_files import PDF, upload

    client = client_for(world.customer)  # Ivan, Russian interface
    response = client.post(
        reverse("ticket_new"),
        {
            "category": str(world.technical.pk),
            "subject": "Счёт не оплачивается",
            "body": "Прикладываю счёт.",
            "f_site": "пример.рф",
            "f_error": "Ошибка оплаты",
            "attachments": [upload("Счёт №5 — копия.pdf", PDF, "application/pdf")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get(customer=world.customer, subject="Счёт не оплачивается")
    att = Attachment.objects.get(message__ticket=ticket)
    assert att.filename == "Счёт №5 — копия.pdf"
    page = client.get(response["Location"]).content.decode()
    assert "Счёт №5 — копия.pdf" in page and "Счёт не оплачивается" in page
    download = client.get(reverse("attachment_named", args=[att.pk, att.filename]))
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == f"inline; filename*=utf-8''{quote(att.filename)}"


def _parsed(mail):
    raw = mail.message().as_bytes()
    headers = raw.split(b"\n\n", 1)[0]
    headers.decode("ascii")  # headers are 7-bit on the wire: non-ASCII only as RFC 2047 encoded-words
    assert b"\nSubject: =?utf-8?" in headers
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_reply_mail_with_cyrillic_subject_body_sender_and_attachment_decodes_back(world, ticket_with_file, sent_mail):
    world.technical.name = "Техподдержка"
    world.technical.save()
    sent_mail().clear()
    services.ticket_reply(
        ticket=ticket_with_file,
        author=world.tech_agent,
        body_text="Добрый день! Исправленный счёт во вложении.",
        files=[IncomingFile(filename="Исправленный счёт.txt", data="Итого: 1 500 ₽".encode())],
    )
    [mail] = sent_mail()
    parsed = _parsed(mail)
    assert _subject(parsed) == f"[{ticket_with_file.reference}] Не приходит счёт"
    assert parsed["From"].addresses[0].display_name == "Техподдержка"
    assert "Добрый день! Исправленный счёт во вложении." in parsed.get_body(("plain",)).get_content()
    assert "Исправленный счёт" in parsed.get_body(("html",)).get_content()
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "Исправленный счёт.txt"
    assert part.get_content() == "Итого: 1 500 ₽"


def test_acknowledgement_subject_in_russian_decodes_back(world, sent_mail):
    ticket = make_ticket(world.customer, world.technical, subject="Ошибка «Нет доступа» в личном кабинете")
    [mail] = [m for m in sent_mail() if world.customer.email in m.to]
    subject = _subject(_parsed(mail))
    assert subject == f"[{ticket.reference}] Мы получили вашу заявку: Ошибка «Нет доступа» в личном кабинете"


def test_long_cyrillic_subject_folds_and_decodes_back(world, sent_mail):
    long_subject = "Очень длинная тема письма о проблеме с подключением к серверу " * 3
    long_subject = long_subject.strip()[:250]
    ticket = make_ticket(world.customer, world.technical, subject=long_subject)
    [mail] = [m for m in sent_mail() if world.customer.email in m.to]
    subject = _subject(_parsed(mail))
    assert subject.startswith(f"[{ticket.reference}] ")
    assert subject.endswith(" ".join(long_subject.split()))


NAMES = ["Юлия Зайцева", "Ёжик Туманов", "анна Смирнова", "Борис Акунин", "Елена Прекрасная", "Zoe Adams", "Øyvind"]
EXPECTED = ["Øyvind", "Zoe Adams", "анна Смирнова", "Борис Акунин", "Ёжик Туманов", "Елена Прекрасная", "Юлия Зайцева"]


@pytest.fixture
def customers_with_tickets(world):
    for i, name in enumerate(NAMES):
        make_ticket(UserFactory(email=f"sort{i}@customer.example", display_name=name), world.technical)


def _sorted_names(*order_by):
    qs = Ticket.objects.filter(customer__email__startswith="sort").order_by(*order_by)
    return list(qs.values_list("customer__display_name", flat=True))


def test_natural_order_sorts_cyrillic_like_a_dictionary(customers_with_tickets):
    # Case does not split the alphabet, Ё sorts with Е (ёжик < елена by the next letter), Latin first.
    assert _sorted_names(natural_order("customer__display_name")) == EXPECTED
    assert _sorted_names(natural_order("customer__display_name").desc()) == EXPECTED[::-1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_plain_byte_order_would_be_wrong_on_c_collation(customers_with_tickets):
    """Why natural_order exists: with a "C" database collation capitals and Ё jump ahead."""
    with connection.cursor() as cur:
        cur.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        (collate,) = cur.fetchone()
    if collate not in {"C", "C.UTF-8", "POSIX"}:
        pytest.skip(f"database collation {collate} already sorts by language rules")
    assert _sorted_names("customer__display_name") != EXPECTED


def test_natural_order_is_plain_column_on_sqlite(monkeypatch):
    from django.db.models import F

    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert natural_order("customer__display_name") == F("customer__display_name")


def test_cyrillic_names_and_subjects_render_on_agent_queue(world, client_for, ticket_with_file):
    html = client_for(world.tech_agent).get("/agent/").content.decode()
    assert "Не приходит счёт" in html and "Иван Петров" in html


def test_cyrillic_email_address_and_password_log_in_case_insensitively(db, client):
    User.objects.create_user("оля@пример.рф", "pw-Секрет-123", display_name="Ольга Иванова")
    response = client.post(
        reverse("login"), {"username": "ОЛЯ@ПРИМЕР.РФ", "password": "pw-Секрет-123"}, follow=True
    )
    assert response.context["user"].is_authenticated
    assert "Ольга Иванова" in response.content.decode()


def test_cabinet_search_finds_cyrillic_subject_and_body_in_any_case(world, client_for, ticket_with_file):
    make_ticket(world.customer, world.technical, subject="Другая тема", body="Ничего общего")
    client = client_for(world.customer)
    for query in ("СЧЁТ", "не приходит", "ПРИКЛАДЫВАЮ"):
        page = client.get(reverse("ticket_list"), {"q": query}).content.decode()
        assert "Не приходит счёт" in page, query
        assert "Другая тема" not in page, query

"""Full-text search on PostgreSQL: word forms in Russian, English and German, mixed-language messages,
notes for agents only, vectors kept current by the triggers (new message, edit, merge, subject change)."""

import pytest
from django.db import connection

from search.filters import parse_filters
from search.selectors import search_matches, search_tickets
from tests.factories import make_ticket
from tickets import services
from tickets.models import Message, Ticket


def found(user, q, **params):
    """Subjects found; the page query (search_matches: from search_ticketvector alone where it can) finds
    the same tickets as search_tickets() (joined to tickets_ticket)."""
    filters = parse_filters({"q": q, **params})
    tickets = search_tickets(user=user, filters=filters)
    assert list(search_matches(user=user, filters=filters).values_list("pk", flat=True)) == [t.pk for t in tickets]
    return {t.subject for t in tickets}


@pytest.fixture
def tickets(world):
    ru = make_ticket(world.customer, world.technical, subject="Не работает сайт", body="Серверы не отвечают с утра")
    en = make_ticket(world.other_customer, world.technical, subject="Backup question", body="The servers were restarted")
    mixed = make_ticket(
        world.customer, world.technical, subject="Mixed", body="Nginx выдаёт ошибку 502 after the migration"
    )
    de = make_ticket(world.other_customer, world.technical, subject="Rechnung", body="Die Rechnungen sind falsch")
    return {"ru": ru, "en": en, "mixed": mixed, "de": de}


@pytest.mark.parametrize(
    "query, subject",
    [
        ("сервер", "Не работает сайт"),  # "серверы" in the message
        ("серверов", "Не работает сайт"),
        ("отвечает", "Не работает сайт"),
        ("сайты", "Не работает сайт"),  # subject
        ("server", "Backup question"),
        ("restarting", "Backup question"),
        ("backups", "Backup question"),
        ("ошибки", "Mixed"),
        ("migrations ошибка", "Mixed"),  # one English and one Russian word in a mixed message
        ("rechnung", "Rechnung"),  # German plural in the body
    ],
)
def test_word_forms_match(world, tickets, query, subject):
    assert subject in found(world.tech_agent, query)


def test_all_words_must_match_and_minus_excludes(world, tickets):
    assert found(world.tech_agent, "сервер утро") == {"Не работает сайт"}
    assert found(world.tech_agent, "сервер бэкап") == set()
    assert found(world.tech_agent, "servers -backup") == set()
    assert found(world.tech_agent, '"servers were restarted"') == {"Backup question"}
    assert found(world.tech_agent, '"restarted servers"') == set()


def test_new_messages_are_searchable_at_once(world, tickets):
    assert found(world.tech_agent, "кластер") == set()
    services.ticket_customer_message(ticket=tickets["en"], author=world.other_customer, body_text="Кластер упал")
    assert found(world.tech_agent, "кластеры") == {"Backup question"}
    services.ticket_reply(ticket=tickets["ru"], author=world.tech_agent, body_text="We replaced the disks")
    assert found(world.tech_agent, "disk") == {"Не работает сайт"}


def test_notes_are_found_by_agents_only(world, tickets, client_for):
    services.ticket_note(ticket=tickets["ru"], author=world.tech_agent, body_text="Клиент должен денег, зебра")
    assert found(world.tech_agent, "зебры") == {"Не работает сайт"}
    assert found(world.customer, "зебра") == set()
    # words spread over the conversation and a note still match for agents
    assert found(world.tech_agent, "зебра сервер") == {"Не работает сайт"}


def test_subject_change_edit_and_merge_update_the_vectors(world, tickets):
    t = tickets["en"]
    services.ticket_rename(ticket=t, actor=world.tech_agent, subject="Restore of database")
    assert found(world.tech_agent, "databases") == {"Restore of database"}
    assert found(world.tech_agent, "backup") == set()
    msg = Message.objects.filter(ticket=t).first()
    msg.body_text = "Completely different words: elephant"
    msg.save()
    assert found(world.tech_agent, "elephants") == {"Restore of database"}
    assert found(world.tech_agent, "restarted") == set()
    msg.delete()
    assert found(world.tech_agent, "elephant") == set()


def test_merge_moves_the_words(world, tickets):
    source, target = tickets["de"], tickets["en"]
    Ticket.objects.filter(pk=source.pk).update(customer=target.customer)
    source.refresh_from_db()
    services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    assert "Backup question" in found(world.tech_agent, "rechnungen")


def test_subject_only(world, tickets):
    assert found(world.tech_agent, "сайт", subject_only="1") == {"Не работает сайт"}
    assert found(world.tech_agent, "сервер", subject_only="1") == set()


def test_split_and_unmerge_keep_the_vectors_right(world, tickets):
    source = tickets["mixed"]
    message = Message.objects.get(ticket=source, kind="customer")
    new = services.ticket_split(ticket=source, message=message, actor=world.tech_agent, department=world.technical,
                                subject="Split part")
    assert found(world.tech_agent, "nginx") == {"Mixed", "Split part"}  # the message is copied
    target = tickets["ru"]
    event = services.ticket_merge(source=new, target=target, actor=world.tech_agent)
    assert "Не работает сайт" in found(world.tech_agent, "nginx")
    services.ticket_unmerge(event=event, actor=world.tech_agent)
    assert found(world.tech_agent, "nginx") == {"Mixed", "Split part"}


def _vectors(text):
    """The function's vector, and the two- and three-configuration vectors to compare it with."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT helpdesk_search_vector(t)::text,
                      (to_tsvector('simple', t) || to_tsvector('russian', t))::text,
                      (to_tsvector('simple', t) || to_tsvector('russian', t) || to_tsvector('german', t))::text
               FROM (SELECT %s::text AS t) x""",
            [text],
        )
        return cursor.fetchone()


@pytest.mark.parametrize(
    "text",
    [
        "Die Rechnungen sind falsch",  # no German letter: the words tell
        "Rechnungen Übersicht",  # no German word of the list: the letter tells
        "Grüße aus Berlin, die Server laufen wieder",
        "Сервер упал. Die Rechnungen sind falsch.",  # mixed: all three
    ],
)
def test_text_that_looks_german_is_also_stemmed_in_german(db, text):
    vector, _, three = _vectors(text)
    assert vector == three


@pytest.mark.parametrize(
    "text",
    ["Серверы не отвечают с утра", "The servers were restarted", "Nginx выдаёт ошибку 502 after the migration", ""],
)
def test_russian_and_english_text_skips_the_german_parse(db, text):
    vector, two, three = _vectors(text)
    assert vector == two
    assert text == "" or two != three  # the German stemmer would have added lexemes


def test_german_words_in_a_message_without_markers_still_match_exactly(world):
    make_ticket(world.customer, world.technical, subject="Short", body="Rechnungen falsch")
    assert found(world.tech_agent, "rechnungen") == {"Short"}  # the exact form ('simple')

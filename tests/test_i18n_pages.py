"""Key pages and emails in each language, and how the interface language is chosen (issue 10)."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services

LANGS = {
    # language: (log in, my tickets, all my departments, customer column, new status, login password label)
    "en": ("Log in", "My tickets", "All my departments", "Customer", "New", "Password"),
    "ru": ("Войти", "Мои заявки", "Все мои отделы", "Клиент", "Новая", "Пароль"),
    "uk": ("Увійти", "Мої заявки", "Усі мої відділи", "Клієнт", "Нова", "Пароль"),
    "de": ("Anmelden", "Meine Tickets", "Alle meine Abteilungen", "Kunde", "Neu", "Passwort"),
}
NATIVE_NAMES = ["English", "Русский", "Українська", "Deutsch"]


def test_languages_are_english_russian_ukrainian_german():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "ru", "uk", "de"]


def _assert_switcher(html: str, lang: str):
    assert f'<html lang="{lang}">' in html
    assert 'id="lang-select"' in html
    assert f'<option value="{lang}" selected>' in html
    for name in NATIVE_NAMES:
        assert name in html


@pytest.mark.parametrize("lang", LANGS)
def test_home_and_login_pages_in_each_language(db, client, lang):
    log_in, *_, password = LANGS[lang]
    home = client.get("/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert log_in in home
    _assert_switcher(home, lang)
    login = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert password in login and log_in in login
    _assert_switcher(login, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_customer_ticket_list_in_each_language(world, client_for, lang):
    _, my_tickets, _, _, new, _ = LANGS[lang]
    world.customer.language = lang
    world.customer.save()
    make_ticket(world.customer, world.technical, subject="Printer on fire")
    html = client_for(world.customer).get(reverse("ticket_list")).content.decode()
    assert my_tickets in html and new in html and "Printer on fire" in html
    _assert_switcher(html, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_agent_queue_in_each_language(world, client_for, lang):
    _, _, all_departments, customer, new, _ = LANGS[lang]
    world.tech_agent.language = lang
    world.tech_agent.save()
    make_ticket(world.customer, world.technical, subject="Printer on fire")
    html = client_for(world.tech_agent).get(reverse("agent_queue")).content.decode()
    assert all_departments in html and customer in html and new in html
    _assert_switcher(html, lang)


def test_russian_ticket_page_has_no_english_interface_text(world, client_for):
    ticket = make_ticket(world.customer, world.technical, subject="Нет связи")
    html = client_for(world.customer).get(reverse("ticket_detail", args=[ticket.number])).content.decode()
    for english in ("Log out", "My tickets", "Conversation", "Customer message", "Skip to content"):
        assert english not in html
    assert "Выйти" in html and "Переписка" in html and "Сообщение клиента" in html


EMAILS = {
    # language: (acknowledgement subject prefix, reply body, status mail text)
    "en": ("We received your request:", "Anna Tech answered your request.", "is now: Resolved"),
    "ru": ("Мы получили вашу заявку:", "Anna Tech ответил(а) на вашу заявку.", "изменён на: Решена"),
    "uk": ("Ми отримали ваше звернення:", "Anna Tech відповів(ла) на ваше звернення.", "змінено на: Вирішена"),
    "de": ("Wir haben Ihre Anfrage erhalten:", "Anna Tech hat Ihre Anfrage beantwortet.", "ist jetzt: Gelöst"),
}


@pytest.mark.parametrize("lang", EMAILS)
def test_customer_emails_in_customers_language(world, sent_mail, lang):
    ack, reply, status = EMAILS[lang]
    world.customer.language = lang
    world.customer.save()
    ticket = make_ticket(world.customer, world.technical, subject="Printer on fire")
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Use the extinguisher.")
    services.ticket_set_status(ticket=ticket, actor=world.tech_agent, status="resolved")
    created, replied, changed = [m for m in sent_mail() if m.to == [world.customer.email]]
    assert created.subject == f"[{ticket.reference}] {ack} Printer on fire"
    assert f'<html lang="{lang}">' in created.alternatives[0][0]
    assert replied.subject == f"[{ticket.reference}] Printer on fire"
    assert reply in replied.body and "Use the extinguisher." in replied.body
    assert reply in replied.alternatives[0][0]
    assert status in changed.body


def test_agent_notification_uses_agents_language_not_customers(world, sent_mail):
    world.tech_agent.language = "de"
    world.tech_agent.save()
    ticket = make_ticket(world.customer, world.technical, subject="Printer on fire")  # customer is Russian
    services.ticket_assign(ticket=ticket, actor=world.tech_manager, assignee=world.tech_agent)
    [mail] = [m for m in sent_mail() if m.to == [world.tech_agent.email]]
    assert mail.subject == f"[{ticket.reference}] Ihnen zugewiesen: Printer on fire"


# Preference order: the user's saved language, then the language cookie / browser (Accept-Language).


def test_anonymous_visitor_gets_browser_language(db, client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="uk-UA,uk;q=0.9,en;q=0.5").content.decode()
    assert "Увійти" in html and '<html lang="uk">' in html


def test_unsupported_browser_language_falls_back_to_english(db, client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="en">' in html and "Log in" in html


def test_saved_preference_beats_browser_language(world, client_for):
    world.customer.language = "de"
    world.customer.save()
    html = client_for(world.customer).get(reverse("ticket_list"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Meine Tickets" in html and '<html lang="de">' in html


def test_user_without_preference_gets_browser_language(world, client_for):
    world.other_customer.language = ""
    world.other_customer.save()
    html = client_for(world.other_customer).get(reverse("ticket_list"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Мої заявки" in html


def test_anonymous_switcher_choice_beats_browser_language(db, client):
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Anmelden" in html


def test_switcher_saves_logged_in_users_preference(world, client_for):
    client = client_for(world.customer)
    response = client.post(reverse("set_language"), {"language": "uk", "next": reverse("ticket_list")})
    assert response.status_code == 302 and response["Location"] == reverse("ticket_list")
    world.customer.refresh_from_db()
    assert world.customer.language == "uk"
    html = client.get(reverse("ticket_list"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Мої заявки" in html


def test_switcher_ignores_unknown_language(world, client_for):
    client_for(world.customer).post(reverse("set_language"), {"language": "xx", "next": "/"})
    world.customer.refresh_from_db()
    assert world.customer.language == "ru"

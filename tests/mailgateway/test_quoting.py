"""split_quoted() / split_quoted_html(): the new part is what the sender wrote, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgateway.parsing import parse
from mailgateway.quoting import split_quoted, split_quoted_html

FIXTURES = Path(__file__).parent / "fixtures"


def squeeze(text: str) -> str:
    return "".join(text.split())


def assert_nothing_lost(original: str, new: str, quoted: str) -> None:
    assert squeeze(new) + squeeze(quoted) == squeeze(original)


CASES = [
    pytest.param(
        "Thanks!\n\nOn Mon, Jan 15, 2024 at 10:15 AM Support <s@h.example> wrote:\n> old\n> text\n",
        "Thanks!",
        "On Mon",
        id="english-on-wrote",
    ),
    pytest.param(
        "Thanks!\n\nOn Mon, Jan 15, 2024 at 10:15 AM Helpdesk Support Team\n<support@helpdesk.example> wrote:\n\n> old\n",
        "Thanks!",
        "On Mon",
        id="english-on-wrote-wrapped",
    ),
    pytest.param(
        "Fixed.\n\n-----Original Message-----\nFrom: A\nSent: today\nSubject: x\n\nold\n",
        "Fixed.",
        "-----Original Message-----",
        id="original-message",
    ),
    pytest.param(
        "Fixed.\n\n________________________________\nFrom: Support <s@h.example>\nSent: Monday, 15 January 2024 10:15\n"
        "To: Me\nSubject: RE: x\n\nold\n",
        "Fixed.",
        "________________________________",
        id="outlook-from-sent",
    ),
    pytest.param(
        "Спасибо!\n\n15.01.2024 10:15, Служба поддержки написал(а):\n> старое\n",
        "Спасибо!",
        "15.01.2024",
        id="russian-napisal",
    ),
    pytest.param(
        "Спасибо!\n\n15.01.2024 10:15, Служба\nподдержки пишет:\n> старое\n",
        "Спасибо!",
        "15.01.2024",
        id="russian-pishet-wrapped",
    ),
    pytest.param(
        "Спасибо!\n\nпн, 15 янв. 2024 г. в 10:15, Иван Петров <ivan@example.ru>:\n\n> старое\n",
        "Спасибо!",
        "пн, 15 янв.",
        id="russian-gmail-no-verb",
    ),
    pytest.param(
        "Готово.\n\n-----Исходное сообщение-----\nОт: Поддержка\nОтправлено: 15 января 2024 г. 10:15\nТема: x\n\nстарое\n",
        "Готово.",
        "-----Исходное сообщение-----",
        id="russian-original-message",
    ),
    pytest.param(
        "Готово.\n\nОт: Поддержка <s@h.example>\nОтправлено: 15 января 2024 г. 10:15\nКому: я\nТема: x\n\nстарое\n",
        "Готово.",
        "От: Поддержка",
        id="russian-outlook-block",
    ),
    pytest.param(
        "Danke!\n\nAm 15.01.2024 um 10:15 schrieb Support <s@h.example>:\n> alt\n",
        "Danke!",
        "Am 15.01.2024",
        id="german-am-schrieb",
    ),
    pytest.param(
        "Danke!\n\nAm Mo., 15. Jan. 2024 um 10:15 Uhr schrieb Helpdesk Support\n<s@h.example>:\n> alt\n",
        "Danke!",
        "Am Mo.",
        id="german-am-schrieb-wrapped",
    ),
    pytest.param(
        "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Support\nGesendet: Montag\nBetreff: x\n\nalt\n",
        "Danke!",
        "-----Ursprüngliche Nachricht-----",
        id="german-original-message",
    ),
    pytest.param(
        "Danke!\n\nVon: Support <s@h.example>\nGesendet: Montag, 15. Januar 2024 10:15\nAn: ich\n\nalt\n",
        "Danke!",
        "Von: Support",
        id="german-outlook-block",
    ),
    pytest.param(
        "New text\n\n> quoted line\n> another\n", "New text", "> quoted line", id="trailing-gt-block"
    ),
]


@pytest.mark.parametrize(("text", "new", "quoted_start"), CASES)
def test_split_quoted(text, new, quoted_start):
    got_new, got_quoted = split_quoted(text)
    assert got_new == new
    assert got_quoted.startswith(quoted_start)
    assert_nothing_lost(text, got_new, got_quoted)


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 1 Jan 2024 at 10:00, A <a@b.example> wrote: \t\u00a0",
        "-----Original Message-----\u2028",
        "пн, 15 янв. 2024 г. в 10:15, Иван <ivan@example.ru>:\x85",
        "On Mon, 1 Jan 2024 at 10:00, Very Long Name\n<a@b.example> wrote:  ",
    ],
)
def test_attribution_followed_by_unicode_blanks_is_found(attribution):
    text = f"New text\n\n{attribution}\n> old text"
    assert split_quoted(text) == ("New text", f"{attribution}\n> old text")


def test_long_lines_with_digits_and_addresses_are_not_attributions():
    line = "Ticket 451 from <ivan@example.ru> 15.01.2024 10:15, see <a@b.example> and 42 more " * 2
    text = "\n".join([line, line.strip() + ":x", line + "-:-x", "> not trailing", line])
    assert split_quoted(text) == (text, "")


def test_inline_answers_stay_in_the_new_part():
    text = "On Mon, A wrote:\n> question one?\nanswer one\n> question two?\nanswer two\n"
    new, quoted = split_quoted(text)
    assert "answer two" in new
    assert_nothing_lost(text, new, quoted)


def test_bottom_posted_answer_is_not_hidden():
    text = "On Mon, A wrote:\n> question?\n\nMy answer below the quote.\n"
    new, _ = split_quoted(text)
    assert "My answer below the quote." in new


def test_text_without_quote_is_unchanged():
    text = 'Hello,\nthe printer on floor 3 is broken: it says\n"From: tray 2".\nRegards'
    assert split_quoted(text) == (text, "")


def test_text_that_is_only_a_quote_stays_visible():
    text = "> only quoted\n> text"
    assert split_quoted(text) == (text, "")


def test_forward_is_not_treated_as_quote():
    text = "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@b.example>\nDate: Mon\nSubject: x\n\nbody\n"
    assert split_quoted(text) == (text, "")


def test_russian_reply_fixture():
    mail = parse((FIXTURES / "reply_russian_quote.eml").read_bytes())
    new, quoted = split_quoted(mail.text)
    assert new == "Спасибо, принтер заработал!\n\nИван"
    assert quoted.startswith("15.01.2024 10:15, Служба поддержки\nнаписал(а):")
    assert "Перезагрузите" in quoted


def test_gmail_reply_fixture_plain_and_html():
    mail = parse((FIXTURES / "gmail_reply_blockquote.eml").read_bytes())
    new, quoted = split_quoted(mail.text)
    assert new == "Yes, it works now. Thanks!"
    assert "please restart the printer" in quoted
    new_html, quoted_html = split_quoted_html(mail.html)
    assert "Yes, it works now. Thanks!" in new_html
    assert "please restart" not in new_html
    assert quoted_html.startswith('<div class="gmail_quote"')
    assert new_html + quoted_html == mail.html


HTML_CASES = [
    pytest.param(
        '<p>New</p><div class="moz-cite-prefix">On Mon, A wrote:<br></div><blockquote type="cite">old</blockquote>',
        '<div class="moz-cite-prefix">',
        id="thunderbird",
    ),
    pytest.param('<p>New</p><blockquote type="cite">old</blockquote>', "<blockquote", id="apple-mail"),
    pytest.param(
        '<p>New</p><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">From: A</div>old',
        "<hr",
        id="outlook-web",
    ),
    pytest.param(
        '<p>New</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        "<p><b>From:</b> A</p></div><p>old</p>",
        '<div style="border:none;border-top:solid',
        id="outlook-desktop",
    ),
]


@pytest.mark.parametrize(("html", "quoted_start"), HTML_CASES)
def test_split_quoted_html(html, quoted_start):
    new, quoted = split_quoted_html(html)
    assert new == "<p>New</p>"
    assert quoted.startswith(quoted_start)
    assert new + quoted == html


def test_html_without_quote_or_with_nothing_new_is_unchanged():
    assert split_quoted_html("<p>Only new</p>") == ("<p>Only new</p>", "")
    only_quote = '<div><br></div><blockquote type="cite">old</blockquote>'
    assert split_quoted_html(only_quote) == (only_quote, "")

"""parse() on hand-made hard messages (tests/mailgateway/fixtures) and inline edge cases."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailgateway.parsing import ParsedEmail, parse

FIXTURES = Path(__file__).parent / "fixtures"


def parse_fixture(name: str) -> ParsedEmail:
    return parse((FIXTURES / name).read_bytes())


# --- charsets -------------------------------------------------------------------------


def test_koi8r_body_without_charset_label_is_russian():
    mail = parse_fixture("koi8r_no_charset.eml")
    assert "У нас в бухгалтерии не работает принтер" in mail.text
    assert mail.subject == "Не работает принтер"
    assert mail.from_name == "Пётр Сидоров"
    assert mail.from_email == "petr@example.ru"


def test_windows1251_body_labelled_latin1_is_detected():
    mail = parse_fixture("cp1251_labelled_latin1.eml")
    assert mail.text.startswith("Добрый день!")
    assert "пароль не подходит" in mail.text


def test_iso8859_5_subject_and_sender_name():
    mail = parse_fixture("iso8859_5_subject.eml")
    assert mail.subject == "Счёт на оплату №42"
    assert mail.from_name == "Ольга"
    assert mail.text == "Пришлите, пожалуйста, счёт."


def test_subject_split_over_two_charsets_and_folded_lines():
    assert parse_fixture("subject_two_charsets.eml").subject == "Ноутбук сломался"


def test_undeclared_8bit_windows1251_subject_and_from_name():
    mail = parse_fixture("raw8bit_cp1251_subject.eml")
    assert mail.subject == "Не приходят письма от клиентов"
    assert mail.from_name == "Сергей Иванов"
    assert mail.from_email == "sergey@example.ru"


def test_undeclared_8bit_koi8r_subject():
    assert parse_fixture("raw8bit_koi8r_subject.eml").subject == "Вопрос по счёту"


def test_undeclared_8bit_utf8_sender_name():
    assert parse_fixture("ooo_german_subject_only.eml").from_name == "Klaus Müller"


def test_encoded_word_split_inside_a_multibyte_character():
    word = "Привет".encode()
    first, second = base64.b64encode(word[:3]).decode(), base64.b64encode(word[3:]).decode()
    raw = f"Subject: =?utf-8?B?{first}?= =?utf-8?B?{second}?=\n\nx".encode()
    assert parse(raw).subject == "Привет"


def test_lowercase_hex_and_underscores_in_q_encoding():
    raw = b"Subject: =?UTF-8?Q?zm=c4=9bna_vyhodnocen=c3=ad?=\n\nx"
    assert parse(raw).subject == "změna vyhodnocení"


def test_ks_c_5601_alias_and_bogus_charset_do_not_crash():
    raw = (
        b"Subject: =?ks_c_5601-1987?B?rKms0azhrOKs4KzjIKzorNas36zt?=\n"
        b"Content-Type: text/plain; charset=x-bogus-charset\n\n" + "Тест".encode("cp1251")
    )
    mail = parse(raw)
    assert mail.subject == "Запрос цены"
    assert mail.text == "Тест"


def test_unknown_8bit_label_and_missing_charset_utf8():
    raw = b"Subject: x\nContent-Type: text/plain; charset=unknown-8bit\n\n" + "Grüße aus München".encode()
    assert parse(raw).text == "Grüße aus München"


def test_quoted_printable_utf8_body():
    raw = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nd=C3=A9j=C3=A0 vu=\n!"
    assert parse(raw).text == "déjà vu!"


def test_iso_2022_jp_body():
    raw = b"Content-Type: text/plain; charset=iso-2022-jp\n\n" + "日本語のテキスト".encode("iso2022_jp")
    assert parse(raw).text == "日本語のテキスト"


# --- addresses, ids, dates ------------------------------------------------------------


def test_addresses_are_lowercased_and_lists_parsed():
    mail = parse_fixture("gmail_reply_blockquote.eml")
    assert mail.from_email == "john.doe@gmail.example"
    assert mail.from_name == "John Doe"
    assert mail.to == ["support@helpdesk.example"]
    assert mail.cc == ["boss@example.com", "jane@example.com"]


def test_encoded_word_with_embedded_q_does_not_spoof_the_address():
    raw = b"From: =?utf-8?Q?attacker?Q?agent?=@victim.example\nTo: a@b.example\n\nx"
    assert parse(raw).from_email == "attacker?q?agent@victim.example"


def test_encoded_word_local_part_is_decoded_when_inert():
    raw = b"From: =?utf-8?Q?agent?=@example.com\n\nx"
    assert parse(raw).from_email == "agent@example.com"


def test_encoded_word_hiding_an_address_is_not_decoded():
    raw = b"From: =?utf-8?Q?boss=40company.example=3E?=@evil.example\n\nx"
    assert parse(raw).from_email == "=?utf-8?q?boss=40company.example=3e?=@evil.example"


def test_encoded_display_name_cannot_inject_an_address():
    name = base64.b64encode(b"Boss <boss@company.example>").decode()
    mail = parse(f"From: =?utf-8?B?{name}?= <evil@evil.example>\n\nx".encode())
    assert mail.from_email == "evil@evil.example"
    assert mail.from_name == "Boss <boss@company.example>"


def test_delivery_headers_reply_to_and_ids():
    raw = (
        b"From: a@example.com\nDelivered-To: Support@Helpdesk.example\nX-Original-To: sales@helpdesk.example\n"
        b"Reply-To: Other <other@example.com>\nMessage-ID: <ABC@host>\nIn-Reply-To: <x@y> (comment)\n"
        b"References: <r1@h>\n\t<r2@h> <r1@h>\n\nbody"
    )
    mail = parse(raw)
    assert mail.delivered_to == ["support@helpdesk.example"]
    assert mail.x_original_to == ["sales@helpdesk.example"]
    assert mail.reply_to == ["other@example.com"]
    assert mail.message_id == "ABC@host"
    assert mail.in_reply_to == ["x@y"]
    assert mail.references == ["r1@h", "r2@h"]


def test_missing_message_id_is_empty_and_date_is_aware():
    mail = parse(b"Date: Mon, 15 Jan 2024 10:15:00 +0300\n\nx")
    assert mail.message_id == ""
    assert mail.date == datetime(2024, 1, 15, 10, 15, tzinfo=timezone(timedelta(hours=3)))
    assert parse(b"Date: Mon, 15 Jan 2024 10:15:00 -0000\n\nx").date.tzinfo == UTC
    assert parse(b"Date: yesterday-ish\n\nx").date is None


def test_header_access_for_anything_else():
    mail = parse_fixture("ooo_russian_outlook.eml")
    assert mail.header("Thread-Topic") == "[#10234] Не работает принтер"
    assert mail.header("X-Not-There") == ""


# --- structure and attachments --------------------------------------------------------


def test_rfc2231_and_rfc2047_attachment_filenames():
    mail = parse_fixture("rfc2231_filename.eml")
    assert mail.text == "see attached"
    assert [a.filename for a in mail.attachments] == [
        "Отчёт за январь.pdf",
        "Смета.xls",
        "Длинное имя файла для проверки продолжений.txt",
    ]
    assert mail.attachments[0].content == b"%PDF-1.4 fake"
    assert mail.attachments[0].content_type == "application/pdf"


def test_attachment_filename_cannot_contain_a_path():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n'
        b'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="../../etc/passwd"\n\n'
        b"x\n--b--\n"
    )
    assert parse(raw).attachments[0].filename == "passwd"


@pytest.mark.parametrize(
    ("headers", "filename"),
    [
        ('Content-Type: text/plain; charset="utf-8"; NAME="notes.txt"', "notes.txt"),
        ("Content-Type: text/plain\nContent-Disposition: inline; FileName=log.txt", "log.txt"),
        ("Content-Type: text/plain\nContent-Disposition: inline;\n filename*0*=utf-8''%D0%BB%D0%BE%D0%B3;\n"
         " filename*1=.txt", "лог.txt"),
        ("Content-Type: text/plain; charset=utf-8; format=flowed", ""),
    ],
)  # fmt: skip
def test_text_part_is_an_attachment_exactly_when_it_has_a_file_name(headers, filename):
    raw = (
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nbody\n'
        f"--b\n{headers}\n\nfile text\n--b--\n"
    ).encode()
    mail = parse(raw)
    if filename:
        assert (mail.text, [a.filename for a in mail.attachments]) == ("body", [filename])
        assert mail.attachments[0].content == b"file text"
    else:
        assert (mail.text, mail.attachments) == ("body\nfile text", [])


def test_html_only_mail_is_sanitized_and_gets_a_text_body():
    mail = parse_fixture("html_only_dangerous.eml")
    assert "Hello support, my screen looks like this:" in mail.text
    assert "injected" not in mail.text and "alert" not in mail.text
    for bad in ("<script", "onclick", "onload", "javascript:", "<iframe", "Hidden title", "position"):
        assert bad not in mail.html
    assert 'src="cid:screen-1@example.com"' in mail.html
    assert 'data-remote-src="https://tracker.example.net/pixel.gif?u=42"' in mail.html
    assert ' src="https://tracker' not in mail.html
    image = mail.attachments[0]
    assert (image.filename, image.content_type, image.content_id, image.is_inline) == (
        "screen.png",
        "image/png",
        "screen-1@example.com",
        True,
    )
    assert image.content.startswith(b"\x89PNG")


def test_multipart_alternative_prefers_plain_text_and_keeps_html():
    mail = parse_fixture("gmail_reply_blockquote.eml")
    assert mail.text.startswith("Yes, it works now. Thanks!")
    assert "> Hello," in mail.text
    assert 'class="gmail_quote"' in mail.html


def test_top_level_pdf_without_text_part():
    raw = (
        b'Subject: scan\nContent-Type: application/pdf; name="scan.pdf"\nContent-Transfer-Encoding: base64\n\n'
        + base64.b64encode(b"%PDF-1.7")
    )
    mail = parse(raw)
    assert mail.text == "" and mail.html == ""
    assert [(a.filename, a.content) for a in mail.attachments] == [("scan.pdf", b"%PDF-1.7")]


def test_uuencoded_attachment_without_begin_line_is_decoded():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nbody\n--b\n'
        b'Content-Type: application/msword; name="a.txt"\nContent-Transfer-Encoding: x-uuencode\n\n'
        b",2&5L;&\\@6F%M;6%D\n`\n--b--\n"
    )
    assert parse(raw).attachments[0].content == b"Hello Zammad"


def test_uuencoded_attachment_with_begin_line():
    raw = (
        b'Content-Type: application/octet-stream; name="a.txt"\nContent-Transfer-Encoding: uuencode\n\n'
        b"begin 644 a.txt\n,2&5L;&\\@6F%M;6%D\n`\nend\n"
    )
    assert parse(raw).attachments[0].content == b"Hello Zammad"


def test_pgp_mime_signed_message_keeps_body_and_signature():
    raw = (
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary="s"\n\n--s\n'
        b"Content-Type: text/plain; charset=utf-8\n\nsigned body\n--s\n"
        b'Content-Type: application/pgp-signature; name="signature.asc"\n\n-----BEGIN PGP SIGNATURE-----\n--s--\n'
    )
    mail = parse(raw)
    assert mail.text == "signed body"
    assert [a.filename for a in mail.attachments] == ["signature.asc"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: text/plain\n\ntruncated',
        b"Content-Type: multipart/mixed\n\nno boundary at all",
        b'Content-Type: text/plain; charset="\n\nbroken param',
        b"Subject: =?utf-8?B?####?=\nFrom: <<<@@@>>>\nDate: 99 Foo 99999 99:99\n\nx",
        b"Content-Transfer-Encoding: base64\n\n!!!not base64",
        b"Content-Type: message/rfc822\n\n",
        b'From: "unterminated\n\nx',
        b"Subject: \xff\xfe\xfd\n\nx",
    ],
)
def test_never_crashes_on_broken_input(raw):
    mail = parse(raw)
    assert isinstance(mail, ParsedEmail)


def test_truncated_mime_reports_defect_and_keeps_text():
    raw = (
        b'Content-Type: multipart/mixed; boundary="a"\n\n--a\nContent-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=utf-8\n\nIncident content\n"
    )
    mail = parse(raw)
    assert mail.text == "Incident content"
    assert "CloseBoundaryNotFoundDefect" in mail.defects


# --- auto-replies and bounces ---------------------------------------------------------


def test_outlook_out_of_office_in_russian_is_auto_reply():
    mail = parse_fixture("ooo_russian_outlook.eml")
    assert mail.is_auto_reply
    assert not mail.is_bounce
    assert mail.subject.startswith("Автоответ:")
    assert mail.text.startswith("Я в отпуске до 22 января.")
    assert mail.from_name == "Мария Кузнецова"


def test_german_out_of_office_detected_by_subject_alone():
    assert parse_fixture("ooo_german_subject_only.eml").is_auto_reply


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "X-Autorespond: yes",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "X-Auto-Response-Suppress: DR, OOF",
        "X-Auto-Response-Suppress: All",
        "List-Id: <users.lists.example>",
    ],
)
def test_auto_reply_headers(header):
    assert parse(f"{header}\nSubject: hello\n\nx".encode()).is_auto_reply


@pytest.mark.parametrize(
    "subject",
    ["Out of Office: hello", "Automatic reply: hello", "Автоответ: привет", "Abwesenheitsnotiz: Hallo"],
)
def test_auto_reply_subjects(subject):
    raw = b"Content-Type: text/plain\nSubject: " + subject.encode() + b"\n\nx"
    assert parse(raw).is_auto_reply


def test_ordinary_mail_is_not_auto_reply_or_bounce():
    mail = parse(b"Auto-Submitted: no\nPrecedence: first-class\nSubject: Out of paper\n\nx")
    assert not mail.is_auto_reply
    assert not mail.is_bounce


def test_bounce_is_threaded_to_the_original_message():
    mail = parse_fixture("bounce_delivery_status.eml")
    assert mail.is_bounce and mail.is_auto_reply
    assert mail.bounced_message_id == "ticket-10234-reply-7@helpdesk.example"
    assert mail.bounced_subject == "[#10234] Ваша заявка принята"
    assert mail.text.startswith("Delivery to the following recipient failed permanently:")
    assert [a.content_type for a in mail.attachments] == ["message/delivery-status", "message/rfc822"]


def test_bounce_with_rfc822_headers_part_and_empty_return_path():
    raw = (
        b'Return-Path: <>\nFrom: postmaster@example.org\nContent-Type: multipart/report; boundary="r"\n\n'
        b"--r\nContent-Type: text/plain\n\nfailed\n--r\nContent-Type: text/rfc822-headers\n\n"
        b"Message-ID: <orig-1@helpdesk.example>\nSubject: [#77] Hello\n\n--r--\n"
    )
    mail = parse(raw)
    assert mail.is_bounce
    assert (mail.bounced_message_id, mail.bounced_subject) == ("orig-1@helpdesk.example", "[#77] Hello")


@pytest.mark.parametrize(
    "raw",
    [
        b"Return-Path: <>\nFrom: robot@example.org\nSubject: failure\n\nx",
        b"From: MAILER-DAEMON@example.org\nSubject: failure\n\nx",
        b"From: postmaster@example.org\nSubject: failure\n\nx",
        b'From: a@example.org\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        b"--r\nContent-Type: text/plain\n\nfailed\n--r\nContent-Type: message/delivery-status\n\n"
        b"Action: failed\n--r--\n",
    ],
)
def test_each_bounce_signal_alone(raw):
    assert parse(raw).is_bounce


def test_text_and_html_parts_in_multipart_mixed_are_combined_in_order():
    raw = (
        b'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nText part\n--m\n'
        b"Content-Type: text/html\n\n<html><body><h1>Signature</h1></body></html>\n--m--\n"
    )
    mail = parse(raw)
    assert mail.html == "<div>Text part</div><h1>Signature</h1>"
    assert mail.text.startswith("Text part\n") and mail.text.endswith("Signature")


def test_html_meta_charset_is_used_when_the_mime_label_is_missing():
    html = '<html><head><meta charset="koi8-r"></head><body><p>Привет</p></body></html>'
    mail = parse(b"Content-Type: text/html\n\n" + html.encode("koi8-r"))
    assert mail.html == "<p>Привет</p>"


def test_multipart_without_boundary_keeps_its_text():
    mail = parse(b"Content-Type: multipart/mixed\n\nno boundary at all")
    assert mail.text == "no boundary at all"
    assert mail.attachments == []


def test_utf8_address_is_kept_without_decoding_encoded_words_in_it():
    mail = parse("From: Jürgen <jürgen=?utf-8?Q?=40evil?=@example.de>\n\nx".encode())
    assert mail.from_email == "jürgen=?utf-8?q?=40evil?=@example.de"
    assert mail.from_name == "Jürgen"


def test_generated_and_long_filenames_are_safe():
    long_name = "x" * 300 + ".pdf"
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n'
        b"Content-Type: message/rfc822\n\nSubject: Re: a/b\n\ninner\n--b\n"
        b'Content-Type: application/pdf\nContent-Disposition: attachment; filename="'
        + long_name.encode()
        + b'"\n\n'
        b"x\n--b--\n"
    )
    names = [a.filename for a in parse(raw).attachments]
    assert names[0] == "Re: a-b.eml"
    assert len(names[1]) == 200 and names[1].endswith(".pdf")

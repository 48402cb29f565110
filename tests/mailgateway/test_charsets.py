"""Charset guessing for unlabelled or mislabelled bytes, and robustness of parse() on hostile input."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from mailgateway.charsets import codec_name, decode_bytes, decode_encoded_words, guess_decode
from mailgateway.parsing import parse
from mailgateway.quoting import split_quoted, split_quoted_html
from mailgateway.sanitize import html_to_text, sanitize_html

RUSSIAN = [
    "Тест",
    "Да",
    "Привет",
    "Не работает",
    "Вопрос по счёту",
    "Заявка номер 5",
    "Re: Ваша заявка",
    "Объявление",
]


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
@pytest.mark.parametrize("text", RUSSIAN)
def test_short_unlabelled_russian_is_guessed(text, codec):
    assert guess_decode(text.encode(codec))[0] == text


def test_numero_sign_does_not_count_against_windows1251():
    assert guess_decode("Заявка №5".encode("cp1251"))[0] == "Заявка №5"


@pytest.mark.parametrize("codec", ["iso-8859-5", "cp866"])
def test_longer_unlabelled_russian_in_rarer_codepages(codec):
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю"
    assert guess_decode(text.encode(codec))[0] == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Grüße aus München, schöne Äpfel", "cp1252"),
        ("Ça va très bien, merci beaucoup. À bientôt", "iso-8859-1"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy", "iso-8859-2"),
        ("El niño comió piña", "cp1252"),
        ("Їжак і єнот", "cp1251"),
    ],
)
def test_unlabelled_latin_and_ukrainian_text_is_not_turned_into_russian(text, codec):
    assert guess_decode(text.encode(codec))[0] == text


@pytest.mark.parametrize("text", ["Grüße aus München", "Ça va très bien, à bientôt"])
def test_correct_latin1_label_is_kept(text):
    assert decode_bytes(text.encode("latin-1"), "iso-8859-1") == text


def test_strong_label_is_trusted():
    assert decode_bytes("Привет".encode("koi8-r"), "koi8-r") == "Привет"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ks_c_5601-1987", "cp949"),
        ("UTF8", "utf-8"),
        ("unknown-8bit", None),
        ("x-bogus", None),
        ("bad\x00", None),
    ],
)
def test_codec_name(label, codec):
    assert codec_name(label) == codec


def test_encoded_words_with_broken_base64_do_not_raise():
    assert decode_encoded_words("=?utf-8?B?YWJjZ?= x") == "abc x"


# --- robustness --------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
_INSERTS = [b"=?", b"?=", b"\r\n", b"\n ", b"<", b">", b'"', b";", b"--", b"=?utf-8?B?", b"\x00", b"charset=",
            b"filename*=", b"boundary=", b"\xd0", b"begin 644 x\n"]  # fmt: skip


def _mutations(count: int):
    seeds = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    rnd = random.Random(20240115)
    for _ in range(count):
        data = bytearray(rnd.choice(seeds))
        operation = rnd.randrange(3)
        if operation == 0:
            data = data[: rnd.randrange(len(data) + 1)]
        elif operation == 1:
            for _ in range(rnd.randrange(1, 20)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        else:
            position = rnd.randrange(len(data))
            data[position:position] = rnd.choice(_INSERTS)
        yield bytes(data)


def test_mutated_messages_never_crash_the_parser():
    crashes = [d for raw in _mutations(600) for d in parse(raw).defects if d.startswith("ParserCrash")]
    assert crashes == []


@pytest.mark.parametrize(
    "func, payload",
    [
        (sanitize_html, '<div class="' * 5000),
        (html_to_text, '<div class="' * 5000),
        (split_quoted_html, '<div class="' * 5000),
        (sanitize_html, "<style>" * 5000),
        (split_quoted, "On x wrote:\n" * 5000),
        (lambda raw: parse(raw), b"Subject: " + b"=?utf-8?B?" * 5000 + b"\n\nx"),
        (lambda raw: parse(raw), b"Subject: x\n\n" + "Привет мир ".encode("cp1251") * 50000),
    ],
)
def test_hostile_input_is_handled_in_reasonable_time(func, payload):
    started = time.monotonic()
    func(payload)
    assert time.monotonic() - started < 5

"""A new customer's language, guessed from his first mail: Russian when over 30 % of its letters are
Cyrillic (the same answer as counting every letter with findall, as the guess once did)."""

import random
import re

import pytest

from mailgateway.services import guess_language


def _by_findall(text: str) -> str:
    sample = text[:4000]
    letters = len(re.findall(r"[^\W\d_]", sample))
    return "ru" if letters and len(re.findall(r"[\u0400-\u04FF]", sample)) / letters > 0.3 else "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, the printer does not work.", "en"),
        ("Здравствуйте, почта не работает.", "ru"),
        ("Добрий день, не працює пошта.", "ru"),  # Ukrainian: Cyrillic, the closest language we answer in
        ("SMTP relay 451 temporary failure, см. лог", "en"),  # under 30 % Cyrillic letters
        ("", "en"),
        ("12345 ___ !!!", "en"),
        ("Grüße, der Drucker geht nicht", "en"),
    ],
)
def test_guess(text, language):
    assert guess_language(text) == language == _by_findall(text)


def test_same_answer_as_counting_every_letter():
    rng = random.Random(3)
    pieces = ["почта ", "mail ", "Grüße ", "42 ", "_", "ё", "Ї", "\u04ff", "\u0500", "😀", " \n", "x" * 50]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 400)))
        assert guess_language(text) == _by_findall(text), text

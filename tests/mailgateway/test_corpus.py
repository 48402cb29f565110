"""parse() against the shared real-world corpus (../shared/mail-corpus, see its README).

One test per raw message (it must parse) and one test per expectation, so pytest's counts
are the match figures; test_corpus_summary prints "corpus: N/M expectations match".

Zammad's .yml files describe Zammad's parser; where this gateway deliberately differs,
the expectation is adapted here and the reason is written next to it:
* Zammad lists the original HTML part as an attachment ``message.html`` (content-alternative);
  we expose it as ParsedEmail.html instead, so such items are left out of the comparison.
* Zammad puts the placeholder ``no visible content`` into the body of a mail without a text
  part (mail094); we leave ParsedEmail.text empty and let the UI say so.
* We lower-case addresses; Zammad keeps the case. Addresses are compared case-insensitively.
* mail089.yml has the subject without the colon that mail089.box has (upstream kept two
  versions of the .box; see the MANIFEST note); we expect what the .box says.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from mailgateway.parsing import ParsedEmail, parse
from mailgateway.quoting import split_quoted
from mailgateway.sanitize import html_to_text


def _find_corpus() -> Path | None:
    configured = os.environ.get("MAIL_CORPUS_DIR")
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "mail-corpus"
        if candidate.is_dir():
            return candidate
    return None


CORPUS = _find_corpus()
SKIP_REASON = "mail corpus not found: set MAIL_CORPUS_DIR or put it at <repo>/../shared/mail-corpus"


def _raw_files() -> list[Path]:
    if CORPUS is None:
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".box", ".eml"))


@cache
def parsed(path: Path) -> ParsedEmail:
    return parse(path.read_bytes())


def squeeze(text: str) -> str:
    """Tags stripped, entities resolved, all whitespace removed: HTML and text compare equal."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]*>", "", text or "")))


@dataclass(frozen=True)
class Expectation:
    id: str
    check: Callable[[], tuple[bool, str]]


def _equal(got: object, want: object) -> tuple[bool, str]:
    return got == want, f"got {got!r}, want {want!r}"


def _contains(haystack: str, needle: str) -> tuple[bool, str]:
    return needle in haystack, f"{needle!r} not in {haystack[:300]!r}"


# --- Zammad ----------------------------------------------------------------------------


def _load_zammad(path: Path) -> dict:
    import yaml

    class ZammadLoader(yaml.SafeLoader):
        pass

    ZammadLoader.add_multi_constructor(
        "!ruby/hash:", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
    )
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=ZammadLoader)  # noqa: S506 - SafeLoader subclass


SUBJECT_OVERRIDES = {"mail089": "Incident INC678439: -- zugewiesen an EXT-XXXINIS"}  # see module docstring


def _body_as_text(mail: ParsedEmail) -> str:
    return mail.html if mail.html else mail.text


def _zammad_expectations(yml: Path) -> list[Expectation]:
    box = yml.with_suffix(".box")
    want = _load_zammad(yml)
    name = yml.stem.split("-", 1)[0]
    expected_subject = SUBJECT_OVERRIDES.get(name, want["subject"])
    expected_body = "" if want["body"] == "no visible content" else want["body"]
    attachments = [
        a for a in want.get("attachments") or [] if not a["preferences"].get("content-alternative")
    ]

    def got_attachment(filename: str):
        return next((a for a in parsed(box).attachments if a.filename == filename), None)

    def attachment_data(item: dict) -> tuple[bool, str]:
        found = got_attachment(item["filename"])
        if found is None:
            return False, f"no attachment {item['filename']!r}"
        return _equal(squeeze(found.content.decode("utf-8", "replace")), squeeze(item["data"]))

    checks = [
        Expectation(f"{name}:subject", lambda: _equal(parsed(box).subject, expected_subject)),
        Expectation(f"{name}:from_email", lambda: _equal(parsed(box).from_email, want["from_email"].lower())),
        Expectation(
            f"{name}:from_display_name", lambda: _equal(parsed(box).from_name, want["from_display_name"])
        ),
        Expectation(
            f"{name}:attachment_filenames",
            lambda: _equal(
                sorted(a.filename for a in parsed(box).attachments),
                sorted(a["filename"] for a in attachments),
            ),
        ),
        Expectation(
            f"{name}:body", lambda: _contains(squeeze(_body_as_text(parsed(box))), squeeze(expected_body))
        ),
    ]
    for item in attachments:
        checks.append(
            Expectation(f"{name}:attachment_data:{item['filename']}", lambda item=item: attachment_data(item))
        )
    return checks


# --- django-helpdesk (expected values from the MANIFEST notes) --------------------------


def _dh(name: str) -> Path:
    return CORPUS / "django-helpdesk" / name


def _helpdesk_expectations() -> list[Expectation]:
    def mail(name: str) -> ParsedEmail:
        return parsed(_dh(name))

    def subject(name: str, want: str) -> Expectation:
        return Expectation(f"{name}:subject", lambda: _equal(mail(name).subject, want))

    def body(name: str, phrase: str) -> Expectation:
        return Expectation(f"{name}:body", lambda: _contains(mail(name).text, phrase))

    def filenames(name: str, want: list[str]) -> Expectation:
        return Expectation(
            f"{name}:attachment_filenames", lambda: _equal([a.filename for a in mail(name).attachments], want)
        )

    blank = "blank-body-with-attachment.eml"
    return [
        subject("all-special-chars.eml", "Testovácí email"),
        body("all-special-chars.eml", "íářčšáíéřášč"),
        # django-helpdesk truncates the title to its column; truncation belongs to the ticket model, not the parser.
        Expectation(
            f"{blank}:subject",
            lambda: _contains(mail(blank).subject, "Attachment without body - and a loooo"),
        ),
        Expectation(
            f"{blank}:subject_not_truncated",
            lambda: _equal(mail(blank).subject.endswith("ong subject"), True),
        ),
        Expectation(f"{blank}:body", lambda: _equal(mail(blank).text, "")),
        filenames(blank, ["baf"]),
        Expectation(
            f"{blank}:attachment_data",
            lambda: _equal(mail(blank).attachments[0].content, b"You shouldn't see this.\n"),
        ),
        subject("forwarded-message.eml", "Test with original message from GitHub"),
        body("forwarded-message.eml", "This is email body"),
        Expectation(
            "forwarded-message.eml:split_quoted",
            lambda: _equal(split_quoted(mail("forwarded-message.eml").text)[0], "This is email body"),
        ),
        # The forwarded part stays in .text; split_quoted only decides what the UI collapses.
        body("forwarded-message.eml", "-----Original Message-----"),
        subject("pgp.eml", "example email that crashes django-helpdesk get_email"),
        body("pgp.eml", "hi, thanks for looking into this :)"),
        filenames("pgp.eml", ["signature.asc"]),
        subject("quoted_printable.eml", "Český test"),
        body("quoted_printable.eml", "Tohle je test českých písmen odeslaných z gmailu."),
        Expectation(
            "quoted_printable.eml:html",
            lambda: _contains(mail("quoted_printable.eml").html, "odeslaných z gmailu"),
        ),
        subject("utf-nondecodable.eml", "Fwd: Cyklozaměstnavatel - změna vyhodnocení"),
        # django-helpdesk reads the description from the HTML part, which differs from the plain part here;
        # we keep the plain part as .text and the HTML part as .html, so the phrase is expected in the HTML.
        Expectation(
            "utf-nondecodable.eml:body",
            lambda: _contains(
                " ".join(html_to_text(mail("utf-nondecodable.eml").html).split()), "prosazuje lepší"
            ),
        ),
        body("utf-nondecodable.eml", "podle domluvy bych Tě poprosila"),
    ]


def _all_expectations() -> list[Expectation]:
    if CORPUS is None:
        return []
    expectations: list[Expectation] = []
    for yml in sorted((CORPUS / "zammad").glob("*.yml")):
        expectations.extend(_zammad_expectations(yml))
    if (CORPUS / "django-helpdesk").is_dir():
        expectations.extend(_helpdesk_expectations())
    return expectations


EXPECTATIONS = _all_expectations()


@pytest.mark.skipif(CORPUS is None, reason=SKIP_REASON)
@pytest.mark.parametrize("path", _raw_files(), ids=lambda p: p.name)
def test_corpus_message_parses(path):
    mail = parsed(path)
    assert isinstance(mail, ParsedEmail)
    assert not any(d.startswith("ParserCrash") for d in mail.defects)
    assert mail.from_email


@pytest.mark.skipif(CORPUS is None, reason=SKIP_REASON)
@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: e.id)
def test_corpus_expectation(expectation):
    ok, detail = expectation.check()
    assert ok, detail


@pytest.mark.skipif(CORPUS is None, reason=SKIP_REASON)
def test_corpus_summary(capsys):
    results = {}
    for expectation in EXPECTATIONS:
        try:
            results[expectation.id] = expectation.check()[0]
        except Exception:  # noqa: BLE001 - a crash counts as a mismatch in the summary
            results[expectation.id] = False
    matched = sum(results.values())
    with capsys.disabled():
        print(
            f"\ncorpus: {matched}/{len(results)} expectations match, {len(_raw_files())} raw messages parsed"
        )
        for key, ok in results.items():
            if not ok:
                print(f"corpus mismatch: {key}")
    assert results, "the corpus has no expectations"

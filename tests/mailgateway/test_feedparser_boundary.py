"""The stdlib MIME parser with mailgateway.feedparser_boundary installed parses every mail exactly as
without it: the same tree of parts, payloads, preambles, epilogues and defects."""

from __future__ import annotations

import email
import email.feedparser
import random
import re
from email.policy import compat32
from pathlib import Path

import pytest

from mailgateway import feedparser_boundary

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent.parent / "shared" / "mail-corpus"


def _tree(raw: bytes) -> list:
    message = email.message_from_bytes(raw, policy=compat32)
    return [
        (
            part.get_content_type(),
            part.get_boundary(),
            part.preamble,
            part.epilogue,
            None if part.is_multipart() else part.get_payload(),
            [type(d).__name__ for d in part.defects],
        )
        for part in message.walk()
    ]


def _both(raw: bytes) -> tuple[list, list]:
    patched = email.feedparser.re
    assert patched is not re, "installed by mailgateway.parsing"
    try:
        email.feedparser.re = re
        plain = _tree(raw)
    finally:
        email.feedparser.re = patched
    return plain, _tree(raw)


def _mail_files() -> list[Path]:
    files = sorted((HERE / "fixtures").glob("*.eml"))
    if CORPUS.exists():
        files += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".eml", ".box"))
    return files


def _multipart(boundary: str, *, eol: str = "\n", after: str = "", nested: str | None = None) -> bytes:
    inner = (
        f'Content-Type: multipart/alternative; boundary="{nested}"{eol}{eol}'
        f"--{nested}{eol}Content-Type: text/plain{eol}{eol}inner{eol}--{nested}--{eol}"
        if nested
        else f"Content-Type: text/html{eol}{eol}<p>two</p>{eol}"
    )
    return (
        f'From: a@example.org{eol}Content-Type: multipart/mixed; boundary="{boundary}"{eol}{eol}'
        f"preamble{eol}--{boundary}{after}{eol}Content-Type: text/plain{eol}{eol}one{eol}"
        f"--{boundary}x not a boundary line{eol}--{boundary}{eol}--{boundary}{after}{eol}{inner}"
        f"--{boundary}--{after}{eol}epilogue{eol}"
    ).encode()


BOUNDARIES = ["simple", "=_Part_1.2+3", "a.b*c?d(e)f[g]h{i}j|k^l$m", "with space", "back\\slash", "--dashes--"]


def test_it_is_installed():
    assert email.feedparser.re is not re
    feedparser_boundary.install()  # idempotent
    assert isinstance(email.feedparser.re, feedparser_boundary._FeedparserRe)


@pytest.mark.parametrize("path", _mail_files(), ids=lambda p: p.name)
def test_real_mail_parses_the_same(path):
    plain, patched = _both(path.read_bytes())
    assert patched == plain


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("after", ["", "  \t", " trailing"])
def test_boundary_lines_are_recognised_the_same(boundary, eol, after):
    for nested in (None, boundary + "-inner", boundary[:3]):
        raw = _multipart(boundary, eol=eol, after=after, nested=nested)
        plain, patched = _both(raw)
        assert patched == plain


def test_fuzzed_multiparts_parse_the_same():
    rng = random.Random(7)
    alphabet = "ab-=_.+ \t\r\n\\()?*"
    for _ in range(300):
        raw = bytearray(_multipart(rng.choice(BOUNDARIES), eol=rng.choice(["\n", "\r\n"]), nested="in"))
        for _ in range(rng.randint(1, 6)):  # damage: insert, drop or replace a few characters
            at = rng.randrange(len(raw))
            what = rng.random()
            if what < 0.4:
                raw[at:at] = rng.choice(alphabet).encode()
            elif what < 0.7:
                del raw[at]
            else:
                raw[at : at + 1] = rng.choice(alphabet).encode()
        plain, patched = _both(bytes(raw))
        assert patched == plain

"""Separating what a sender wrote from the message they quote, in plain text and HTML.

Splitting only decides what the UI shows collapsed: both parts are always returned,
so nothing the sender wrote is ever lost. When unsure, a marker is not matched and the
whole text stays in the new part.
"""

from __future__ import annotations

import re

_FLAGS = re.IGNORECASE

# A line (or two joined lines) that introduces the quoted message.
_ATTRIBUTIONS = [
    re.compile(r"^\s*-{2,}\s*(original message|исходное сообщение|ursprüngliche nachricht|"
               r"message d'origine|oorspronkelijk bericht)\s*-{2,}\s*$", _FLAGS),
    re.compile(r"^\s*on\b.{0,200}\bwrote\s*:\s*$", _FLAGS),
    re.compile(r"^\s*am\b.{0,200}\bschrieb\b.{0,200}:\s*$", _FLAGS),
    re.compile(r"^.{0,200}\b(написал|написала|написал\(а\)|пишет|писал)\s*:\s*$", _FLAGS),
    re.compile(r"^\s*le\b.{0,200}\ba écrit\s*:\s*$", _FLAGS),
    # Gmail and Yandex in Russian write no verb: "пн, 15 янв. 2024 г. в 10:15, Иван <ivan@example.ru>:"
    re.compile(r"^.{0,200}\d.{0,200}<[^<>\s]+@[^<>\s]+>\s*:\s*$", _FLAGS),
]  # fmt: skip

# Outlook puts a header block instead of an attribution line: From + Sent within a few lines.
_OUTLOOK_FROM = re.compile(r"^[\s*]*(from|von|от|de)[\s*]*:", _FLAGS)
_OUTLOOK_SENT = re.compile(r"^[\s*]*(sent|date|gesendet|datum|отправлено|дата|envoyé)[\s*]*:", _FLAGS)
_SEPARATOR = re.compile(r"^\s*(_{10,}|-{10,})\s*$")
_QUOTED_LINE = re.compile(r"^\s*>")
# A forwarded message is content the sender wants us to read, not a quote.
_FORWARD = re.compile(
    r"^\s*-{2,}\s*(forwarded message|пересылаемое сообщение|weitergeleitete nachricht|"
    r"original message follows)|^\s*begin forwarded message",
    _FLAGS,
)


def _may_end_attribution(line: str) -> bool:
    # Every attribution pattern ends in ':' or '-' and then only blanks. Checked first because the
    # patterns backtrack over each line (.{0,200} twice in one): 0.6 ms for a 30-line reply otherwise.
    return line.rstrip()[-1:] in (":", "-")


def _attribution_end(lines: list[str], i: int) -> int | None:
    """Last line of an attribution starting at line i, or None if there is none."""
    line = lines[i]
    if _may_end_attribution(line) and any(p.match(line) for p in _ATTRIBUTIONS):
        return i
    # Clients wrap long attributions: "On Mon, 1 Jan 2024 at 10:00, Very Long Name\n<a@b.c> wrote:"
    if i + 1 < len(lines) and line.strip() and _may_end_attribution(lines[i + 1]) and lines[i + 1].strip():
        joined = line.rstrip() + " " + lines[i + 1].strip()
        if any(p.match(joined) for p in _ATTRIBUTIONS[1:]):
            return i + 1
    return None


def _is_outlook_header(lines: list[str], i: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[i]) or not any(_OUTLOOK_SENT.match(x) for x in lines[i + 1 : i + 5]):
        return False
    previous = [line for line in lines[max(i - 3, 0) : i] if line.strip()]
    return not (previous and _FORWARD.match(previous[-1]))


def _answers_follow(lines: list[str], end: int) -> bool:
    """True if unquoted text follows the '>' block after an attribution (inline or bottom posting)."""
    rest = [line for line in lines[end + 1 :] if line.strip()]
    if not rest or not _QUOTED_LINE.match(rest[0]):
        return False
    return any(not _QUOTED_LINE.match(line) for line in rest)


def _trailing_quote_start(lines: list[str]) -> int | None:
    """First line of a '>' block that runs to the end of the text (inline answers stay new)."""
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if _QUOTED_LINE.match(lines[i]):
            start = i
        elif lines[i].strip():
            break
    return start


def _quote_start(lines: list[str]) -> int | None:
    for i in range(len(lines)):
        end = _attribution_end(lines, i)
        if end is not None and _answers_follow(lines, end):
            continue
        if end is not None or _is_outlook_header(lines, i):
            return i - 1 if i > 0 and _SEPARATOR.match(lines[i - 1]) else i
    return _trailing_quote_start(lines)


def split_quoted(text: str) -> tuple[str, str]:
    """(new part, quoted part) of a plain-text reply; the quoted part may be ''."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    if start is None:
        return text, ""
    new = "\n".join(lines[:start]).rstrip()
    if not new.strip():
        return text, ""  # a reply that is all quote: show it all rather than nothing
    return new, "\n".join(lines[start:]).strip("\n")


_HTML_MARKERS = [
    re.compile(r"<div\b[^<>]*\bclass\s*=\s*[\"']?[^\"'<>]*\bmoz-cite-prefix\b", _FLAGS),
    re.compile(r"<div\b[^<>]*\bclass\s*=\s*[\"']?[^\"'<>]*\bgmail_quote\b", _FLAGS),
    re.compile(r"<blockquote\b[^<>]*\btype\s*=\s*[\"']?cite\b", _FLAGS),
    re.compile(r"<(hr\b[^<>]*>\s*<)?div\b[^<>]*\bid\s*=\s*[\"']?(divRplyFwdMsg|appendonsend)\b", _FLAGS),
    re.compile(r"<hr\b[^<>]*\bid\s*=\s*[\"']?stopSpelling\b", _FLAGS),
    re.compile(r"<div\b[^<>]*\bstyle\s*=\s*[\"'][^\"'<>]*\bborder-top\s*:\s*solid\b", _FLAGS),
    re.compile(
        r"<blockquote\b[^<>]*\bclass\s*=\s*[\"']?[^\"'<>]*\b(yandex|mail-quote|protonmail_quote)", _FLAGS
    ),
]


def split_quoted_html(html: str) -> tuple[str, str]:
    """(new part, quoted part) of an HTML reply, split at the first quote marker.

    The halves are cut from the markup as is, so tags may be left unbalanced; run each
    through sanitize_html() (which repairs nesting) before displaying it.
    """
    positions = [m.start() for pattern in _HTML_MARKERS if (m := pattern.search(html))]
    if not positions:
        return html, ""
    cut = min(positions)
    new = html[:cut]
    if not re.sub(r"<[^<>]*>|&nbsp;|\s", "", new):
        return html, ""
    return new, html[cut:]

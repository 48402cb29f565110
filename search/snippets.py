"""Highlighted snippets for one page of results, safe to put into HTML.

PostgreSQL's ts_headline marks matches with two private-use characters; the text is then HTML-escaped
and only those markers become <mark> tags (balanced, whatever the stored text contains). On SQLite the
same markers are placed around substring matches in Python.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Message

from . import sql
from .query import Term, positive, tsquery_sql
from .selectors import full_text

START, STOP = "\ue000", "\ue001"
_MARKERS = re.compile(f"({START}|{STOP})")
HEADLINE_OPTIONS = (
    f'StartSel="{START}", StopSel="{STOP}", '
    "MaxWords=35, MinWords=15, ShortWord=2, MaxFragments=2, "
    "FragmentDelimiter=\" … \""
)
SUBJECT_OPTIONS = f'StartSel="{START}", StopSel="{STOP}", HighlightAll=true'
WINDOW = 90  # characters of context either side of a substring match (SQLite)


@dataclass
class Snippet:
    subject: SafeString
    text: SafeString | None = None
    kind: str = ""

    @property
    def is_note(self) -> bool:
        return self.kind == Message.Kind.NOTE


def to_html(marked: str) -> SafeString:
    """Escape everything; turn the markers (only) into balanced <mark> elements."""
    out, open_ = [], False
    for part in _MARKERS.split(marked or ""):
        if part == START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == STOP:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(escape(part))
    if open_:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every text part above went through escape()


def _clean(text: str) -> str:
    """Stored text never contributes markers of its own."""
    return (text or "").replace(START, "").replace(STOP, "")


def snippets(tickets: list, terms: list[Term], *, include_notes: bool) -> dict[int, Snippet]:
    """ticket pk -> Snippet for the given tickets, in one query."""
    if not tickets or not positive(terms):
        return {}
    if full_text():
        return _postgres(tickets, terms, include_notes)
    return _substring(tickets, terms, include_notes)


def _postgres(tickets, terms, include_notes) -> dict[int, Snippet]:
    query, params = tsquery_sql(terms, any_term=True)
    kinds = list(Message.Kind.values if include_notes else Message.PUBLIC_KINDS)
    kinds = [k for k in kinds if k != Message.Kind.EVENT]
    cfg = f"'{sql.HEADLINE_CONFIG}'::regconfig"
    # Per ticket: the newest matching message's headline (strip of the private markers first). The messages
    # are sorted first (OFFSET 0 keeps that subquery apart) and parsed newest first until one matches: a
    # filter beside the ORDER BY would parse every message of the ticket, three configurations each.
    statement = f"""
        SELECT t.id, ts_headline({cfg}, replace(replace(t.subject, %s, ''), %s, ''), {query}, %s), s.kind, s.hl
        FROM tickets_ticket t
        LEFT JOIN LATERAL (
            SELECT m.kind, ts_headline({cfg}, replace(replace(left(m.body_text, {sql.MAX_BODY}), %s, ''), %s, ''),
                                       {query}, %s) AS hl
            FROM (SELECT m.kind, m.body_text FROM tickets_message m
                  WHERE m.ticket_id = t.id AND m.kind = ANY(%s)
                  ORDER BY m.created_at DESC, m.id DESC OFFSET 0) m
            WHERE helpdesk_search_vector(left(m.body_text, {sql.MAX_BODY})) @@ {query}
            LIMIT 1
        ) s ON true
        WHERE t.id = ANY(%s)"""
    args = [START, STOP, *params, SUBJECT_OPTIONS, START, STOP, *params, HEADLINE_OPTIONS, kinds, *params,
            [t.pk for t in tickets]]
    with connection.cursor() as c:
        c.execute(statement, args)
        rows = c.fetchall()
    return {
        pk: Snippet(subject=to_html(subject), text=to_html(hl) if hl else None, kind=kind or "")
        for pk, subject, kind, hl in rows
    }


def mark_substrings(text: str, words: list[str]) -> str:
    if not words:
        return text
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)


def _window(text: str, words: list[str]) -> str | None:
    lower = text.lower()
    hits = [i for i in (lower.find(w.lower()) for w in words) if i >= 0]
    if not hits:
        return None
    start = max(0, min(hits) - WINDOW)
    end = min(len(text), min(hits) + WINDOW)
    piece = ("… " if start else "") + text[start:end] + (" …" if end < len(text) else "")
    return mark_substrings(piece, words)


def _substring(tickets, terms, include_notes) -> dict[int, Snippet]:
    words = [t.text for t in positive(terms)]
    kinds = [k for k in (Message.Kind.values if include_notes else Message.PUBLIC_KINDS) if k != "event"]
    by_ticket: dict[int, list] = {}
    for m in Message.objects.filter(ticket__in=[t.pk for t in tickets], kind__in=kinds).order_by("-created_at"):
        by_ticket.setdefault(m.ticket_id, []).append(m)
    result = {}
    for t in tickets:
        snippet = Snippet(subject=to_html(mark_substrings(_clean(t.subject), words)))
        for m in by_ticket.get(t.pk, []):
            window = _window(_clean(m.body_text), words)
            if window:
                snippet.text, snippet.kind = to_html(window), m.kind
                break
        result[t.pk] = snippet
    return result

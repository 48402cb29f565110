"""A message body as the timeline shows it, rendered once when the message is stored.

Splitting off the quoted history and sanitizing HTML (bleach) cost about a millisecond per message; a
ticket page with 50 messages paid that at every view. `render_body` does it at write time (called by
tickets.services.common.add_message) and the result lives in Message.shown_html / quoted_html. Rows
stored before those columns existed are rendered on the fly by `body_for_display` (and can be filled
with `manage.py render_message_bodies`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from mailgateway.quoting import split_quoted, split_quoted_html
from mailgateway.sanitize import SanitizedHtml, sanitize_html


@dataclass(frozen=True)
class RenderedBody:
    shown: str  # the whole <div class="msg-body ..."> element
    quoted: str  # inner HTML of the collapsed quote, "" when nothing is quoted


def render_body(body_text: str, body_html: str) -> RenderedBody:
    """Safe HTML of the new part and of the quoted part. HTML mail is sanitized again after the cut
    (cutting can leave tags unbalanced; the sanitizer re-balances each half); cid: images stay as they
    are and are pointed at their attachments when shown (the attachments are stored after the message).
    HTML that parse() sanitized and that has no quote to cut is used as it is (bleach already made it)."""
    if body_html:
        head, tail = split_quoted_html(body_html)
        if not tail and isinstance(head, SanitizedHtml):
            # Nothing cut off: the mail gateway's parse() already ran this very string through bleach.
            new_html, quoted_html = head, ""
        else:
            new_html, quoted_html = sanitize_html(head), sanitize_html(tail)
        if new_html:
            return RenderedBody(f'<div class="msg-body msg-html">{new_html}</div>', quoted_html)
    new, quoted = split_quoted(body_text or "")
    shown = f'<div class="msg-body">{linebreaks(new, autoescape=True)}</div>'
    return RenderedBody(shown, linebreaks(quoted, autoescape=True) if quoted else "")


def stored_fields(body_text: str, body_html: str) -> dict[str, str]:
    """Model field values for a message being created with this body."""
    rendered = render_body(body_text, body_html)
    return {"shown_html": rendered.shown, "quoted_html": rendered.quoted}


def attachments_of(message) -> list:
    """The message's attachments: loaded with the conversation (tickets.selectors), else queried."""
    loaded = message.__dict__.get("attachment_list")
    return loaded if loaded is not None else list(message.attachments.all())


_CID_SRC = re.compile(r"""src=(["'])cid:([^"']+)\1""", re.IGNORECASE)


def inline_images(html: str, message) -> str:
    """cid: images pointing at the message's stored attachments (served by the permission-checked view)."""
    if "cid:" not in html:
        return html
    by_cid = {a.content_id.strip("<>"): a for a in attachments_of(message) if a.content_id}

    def swap(match: re.Match[str]) -> str:
        att = by_cid.get(match.group(2).strip("<>"))
        if att is None:
            return 'src=""'
        return f'src="{escape(reverse("attachment_named", args=[att.pk, att.filename]))}"'

    return _CID_SRC.sub(swap, html)


def body_for_display(message) -> RenderedBody:
    """The stored rendering (or, for old rows, a fresh one) with inline images resolved; safe to output."""
    if message.shown_html is None:
        rendered = render_body(message.body_text, message.body_html)
    else:
        rendered = RenderedBody(message.shown_html, message.quoted_html)
    shown, quoted = inline_images(rendered.shown, message), inline_images(rendered.quoted, message)
    return RenderedBody(mark_safe(shown), mark_safe(quoted))  # noqa: S308 - sanitized/escaped by render_body

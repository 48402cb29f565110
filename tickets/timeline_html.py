"""HTML of one timeline item (a message or an event), written in Python.

The ticket page shows 50 messages and about as many events; through the template engine each item cost
about 110 µs (variable lookups, includes, filters), a quarter of the page. Here it is a handful of
f-strings with every value escaped (`escape`) or already safe (the message body, rendered and sanitized
when the message was stored; see tickets.message_body). The partials tickets/_message.html and
_event.html call this too, so the markup has one home. Strings are translated with the same msgids the
templates used.
"""

from __future__ import annotations

from datetime import datetime
from html import escape as _escape

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import filesizeformat
from django.urls import get_script_prefix, reverse
from django.utils.formats import date_format, get_format
from django.utils.safestring import SafeString
from django.utils.timezone import get_current_timezone, template_localtime
from django.utils.translation import get_language, gettext, gettext_noop

from .message_body import attachments_of, body_for_display


def escape(value) -> str:
    """django.utils.html.escape without its lazy-string check and SafeString wrapper (same text; the item
    is marked safe as a whole): a page escapes ~450 values."""
    return _escape(str(value))


_LABELS: dict = {}


def choice_label(obj, field_name: str) -> str:
    """The translated label of a choices field; the choices translated once per model, field and language
    (Model.get_FOO_display rebuilds the choices dict and translates at every call)."""
    key = (type(obj), field_name, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {k: str(v) for k, v in type(obj)._meta.get_field(field_name).flatchoices}
    value = getattr(obj, field_name)
    return labels[value] if value in labels else str(value)


# The fixed words of the timeline, escaped, per language: a hundred items asked gettext ~500 times a page.
# gettext_noop marks them for makemessages (a msgid only named in a dict is not extracted otherwise).
_TEXTS: dict = {}
_MSGIDS = {
    "note": gettext_noop("Internal note"),
    "split": gettext_noop("Split into new ticket"),
    "cc": gettext_noop("Cc:"),
    "quoted": gettext_noop("Show quoted text"),
    "original": gettext_noop("Show original (.eml)"),
    "system": gettext_noop("System"),
    "former": gettext_noop("former staff"),
    "undo": gettext_noop("Undo merge"),
}


def _texts(language: str | None = None) -> dict[str, str]:
    language = language or get_language()
    texts = _TEXTS.get(language)
    if texts is None:
        texts = _TEXTS[language] = {key: escape(gettext(msgid)) for key, msgid in _MSGIDS.items()}
    return texts


# Formatting a date costs ~40 µs (translated month names, "noon"/"midnight"): a hundred timeline items
# spent 4 ms on it. Formats without seconds or time-zone specifiers depend only on the minute, the
# offset and the language, so results are memoized on those (bounded).
_SUB_MINUTE = set("sueOTZIrcU\\")
_FORMATTED: dict = {}


def formatted_date(value, format_name: str, *, language: str | None = None, fmt: str | None = None) -> str:
    """date_format(value, format_name), memoized as explained above; value in the active time zone.
    (`language` and `fmt`: the active language and get_format(format_name), when the caller has them.)"""
    fmt = fmt or get_format(format_name)
    if _SUB_MINUTE & set(fmt):
        return date_format(value, format_name)
    key = (language or get_language(), fmt, value.year, value.month, value.day, value.hour, value.minute,
           value.utcoffset())  # fmt: skip
    text = _FORMATTED.get(key)
    if text is None:
        if len(_FORMATTED) > 4096:
            _FORMATTED.clear()
        text = _FORMATTED[key] = date_format(value, format_name)
    return text


def time_element(value, format_name: str = "DATETIME_FORMAT", page: Page | None = None) -> str:
    """<time datetime="ISO">localized date</time> in the active time zone."""
    if not value:
        return ""
    if page is None:
        value = template_localtime(value)
        text = formatted_date(value, format_name)
    else:
        value = page.localtime(value)
        text = formatted_date(value, format_name, language=page.language, fmt=page.formats[format_name])
    return f'<time datetime="{value.isoformat()}">{escape(text)}</time>'


class Page:
    """What every item of one rendering shares: the active language, its fixed words and choice labels,
    the time zone and date format (looked up once, not ~6 times an item)."""

    def __init__(self):
        self.language = get_language()
        self.texts = _texts(self.language)
        self.timezone = get_current_timezone() if settings.USE_TZ else None
        self.formats = {"DATETIME_FORMAT": get_format("DATETIME_FORMAT")}
        self._labels: dict = {}

    def localtime(self, value):
        """template_localtime(value) in this page's time zone."""
        if (
            self.timezone is not None
            and isinstance(value, datetime)
            and value.utcoffset() is not None
            and getattr(value, "convert_to_local_time", True)
        ):
            return value.astimezone(self.timezone)
        return value

    def label(self, obj, field_name: str) -> str:
        key = (type(obj), field_name)
        labels = self._labels.get(key)
        if labels is None:
            full = (type(obj), field_name, self.language)
            labels = _LABELS.get(full)
            if labels is None:
                labels = _LABELS[full] = {k: str(v) for k, v in type(obj)._meta.get_field(field_name).flatchoices}
            self._labels[key] = labels
        value = getattr(obj, field_name)
        return labels[value] if value in labels else str(value)


def _person(user, former_class: str, texts: dict) -> tuple[str, str]:
    """(name, former-staff marker) of an author or actor; no user means the system."""
    if user is None:
        return texts["system"], ""
    if user.is_active:
        return escape(user.name), ""
    return escape(user.name), f'<span class="{former_class}">({texts["former"]})</span>'


_SPLIT_URLS: dict = {}


def _split_url(message) -> str:
    # reverse() once per ticket and script prefix, not once per message
    key = (message.ticket_id, get_script_prefix())
    prefix = _SPLIT_URLS.get(key)
    if prefix is None:
        if len(_SPLIT_URLS) > 1000:
            _SPLIT_URLS.clear()
        prefix = _SPLIT_URLS[key] = reverse("agent_split", args=[message.ticket.number, 0])[: -len("0/")]
    return f"{prefix}{message.pk}/"


def _rating(message) -> str:
    if message.kind != "reply":
        return ""
    try:
        rating = message.rating
    except ObjectDoesNotExist:
        return ""
    if rating is None:
        return ""
    text = escape(gettext("Customer rating: %(score)s of 5") % {"score": rating.score})
    comment = f" — “{escape(rating.comment)}”" if rating.comment else ""
    return f'<p class="rating">{text}{comment}</p>'


def _attachments(message) -> str:
    items = []
    for a in attachments_of(message):
        url = escape(reverse("attachment_named", args=[a.pk, a.filename]))
        name = escape(a.filename)
        preview = (
            f'<a href="{url}"><img class="preview" src="{url}" alt="{name}" loading="lazy"></a><br>'
            if a.is_image
            else ""
        )
        size = escape(filesizeformat(a.size))
        items.append(f'<li>{preview}<a href="{url}" download>{name}</a> <span class="muted">({size})</span></li>')
    return f'<ul class="attachments">{"".join(items)}</ul>' if items else ""


def message_html(message, *, agent_view: bool = False, originals=(), page: Page | None = None) -> SafeString:
    page = page or Page()
    texts = page.texts
    kind = escape(message.kind)
    note = f' aria-label="{texts["note"]}"' if message.kind == "note" else ""
    split = f'<a class="msg-action" href="{_split_url(message)}">{texts["split"]}</a>' if agent_view else ""
    cc = f'<p class="muted">{texts["cc"]} {escape(", ".join(message.cc))}</p>' if message.cc else ""
    body = body_for_display(message)
    quoted = (
        f'<details class="msg-quoted"><summary>{texts["quoted"]}</summary>'
        f'<div class="msg-quoted-body">{body.quoted}</div></details>'
        if body.quoted
        else ""
    )
    original = ""
    if message.pk in originals:
        href = reverse("message_original", args=[message.ticket.number, message.pk])
        original = f'<a class="msg-original" href="{href}">{texts["original"]}</a>'
    author, former = _person(message.author, "muted former", texts)
    return SafeString(
        f'<article class="msg msg-{kind}" id="m{message.pk}"{note}>\n'
        f"<header><strong>{author}</strong> {former}\n"
        f'<span class="badge kind-{kind}">{escape(page.label(message, "kind"))}</span>\n'
        f'<span class="muted">{escape(page.label(message, "channel"))}</span>\n'
        f"{time_element(message.created_at, page=page)}\n{split}</header>\n"
        f"{cc}{body.shown}\n{quoted}{original}{_attachments(message)}{_rating(message)}\n</article>\n"
    )


def event_html(event, *, agent_view: bool = False, csrf_token: str = "", page: Page | None = None) -> SafeString:
    page = page or Page()
    texts = page.texts
    summary = getattr(event, "summary", "")
    if not summary:
        summary = page.label(event, "kind")
        reason = (event.data or {}).get("reason") if isinstance(event.data, dict) else None
        summary += f" — {reason}" if reason else ""
    undo = ""
    if getattr(event, "can_undo", False) and agent_view:
        action = reverse("agent_unmerge", args=[event.ticket.number, event.pk])
        undo = (
            f'<form method="post" action="{action}" class="inline">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
            f'<button type="submit" class="btn-small">{texts["undo"]}</button></form>'
        )
    actor, former = _person(event.actor, "former", texts)
    return SafeString(
        f'<div class="event event-{escape(event.kind)}" id="e{event.pk}">\n'
        f"<span>{actor}{' ' + former if former else ''}:</span>\n{escape(summary)}\n"
        f"{time_element(event.created_at, page=page)}\n{undo}</div>\n"
    )

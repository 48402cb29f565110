"""Making HTML from untrusted mail safe to show to agents, and turning it into plain text."""

from __future__ import annotations

import html as html_lib
import re
import threading

import bleach
import html2text
from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
        "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre",
        "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip

_CELL_ATTRS = ["colspan", "rowspan", "align", "valign", "style"]
ALLOWED_ATTRIBUTES = {
    "*": ["style", "dir", "lang"],
    "a": ["href", "title"],
    "img": ["src", "alt", "title", "width", "height"],
    "font": ["color", "face", "size"],
    "td": _CELL_ATTRS,
    "th": _CELL_ATTRS,
    "table": ["border", "cellpadding", "cellspacing", "width", "align"],
    "blockquote": ["type", "cite", "class"],
    "div": ["class", "id"],
    "ol": ["start", "type"],
}

ALLOWED_CSS_PROPERTIES = frozenset(
    {
        "background-color", "border", "border-bottom", "border-collapse", "border-left", "border-right",
        "border-top", "color", "font-family", "font-size", "font-style", "font-weight", "height",
        "line-height", "margin", "margin-bottom", "margin-left", "margin-right", "margin-top", "padding",
        "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align", "text-decoration",
        "vertical-align", "white-space", "width",
    }
)  # fmt: skip

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "cid"})

# Elements whose content is never readable text; removed with their content before bleach
# (bleach with strip=True drops the tags but would keep e.g. the script source as text).
_INVISIBLE_OPEN = re.compile(
    r"<(script|style|head|title|noscript|template|iframe|object|embed|xml|svg|math)\b[^>]*>", re.IGNORECASE
)
# Unclosed, these swallow the rest of the document as browsers do; others just lose the tag
# (mail clients write a stray <head> into the body, mail033).
_SWALLOW_REST = {"script", "style"}
_COMMENT = re.compile(r"<!--.*?(-->|$)|<!\[CDATA\[.*?\]\]>|<!DOCTYPE[^>]*>", re.DOTALL | re.IGNORECASE)
_BODY = re.compile(r"<body\b[^>]*>(.*?)(?:</body\s*>|$)", re.IGNORECASE | re.DOTALL)


class _BlockRemoteImages(Filter):
    """Move remote image URLs to data-remote-src: opening a mail must not tell the sender it was read.

    Runs after sanitizing, so every src here already passed the protocol allow-list.
    cid: images stay, the gateway maps them to inline attachments.
    """

    def __iter__(self):
        for token in super().__iter__():
            if token.get("type") in ("StartTag", "EmptyTag") and token.get("name") == "img":
                attrs = dict(token.get("data") or {})
                src = attrs.get((None, "src"), "")
                if src and not src.lower().startswith("cid:"):
                    del attrs[(None, "src")]
                    if src.lower().startswith(("http:", "https:")):
                        attrs[(None, "data-remote-src")] = src
                    token = {**token, "data": attrs}
            yield token


class SanitizedHtml(str):
    """A string that sanitize_html returned (or a concatenation of such strings): it has been through
    bleach with the allow-lists above, so code that would sanitize it again unchanged may skip that
    (tickets.message_body does, for a mail body without quoted history). Any str operation on it
    (slicing, concatenation, replace) returns a plain str again, which must then be sanitized."""

    __slots__ = ()


_local = threading.local()


def _cleaner() -> bleach.Cleaner:
    """One Cleaner per thread (bleach's are not thread-safe): building one costs more than cleaning
    a short mail."""
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = _new_cleaner()
    return cleaner


def _new_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES),
        filters=[_BlockRemoteImages],
    )


def _remove_invisible(html: str) -> str:
    """Cut invisible elements with str.find, not a lazy regex, to stay linear on hostile input."""
    lowered = html.lower()
    out, pos = [], 0
    while match := _INVISIBLE_OPEN.search(html, pos):
        out.append(html[pos : match.start()])
        name = match.group(1).lower()
        close = lowered.find(f"</{name}", match.end())
        if close == -1:
            if name in _SWALLOW_REST:
                return "".join(out)
            pos = match.end()
            continue
        end = lowered.find(">", close)
        pos = len(html) if end == -1 else end + 1
    out.append(html[pos:])
    return "".join(out)


def _visible_part(html: str) -> str:
    html = _remove_invisible(_COMMENT.sub("", html))
    body = _BODY.search(html)
    return body.group(1) if body else html


_STYLE_ATTR = re.compile(r"""(\bstyle\s*=\s*")([^"]*)(")""", re.IGNORECASE)


def _unquote_style(match: re.Match[str]) -> str:
    # bleach hands the CSS sanitizer the value with &quot; still escaped, which ends the
    # declaration early (Outlook writes font-family: &quot;Hiragino Sans&quot;).
    value = re.sub(r"&quot;|&#34;|&#x22;", "'", match.group(2), flags=re.IGNORECASE)
    return match.group(1) + value + match.group(3)


def sanitize_html(html: str) -> SanitizedHtml:
    """Safe HTML fragment (the body content only) for display in the agent UI."""
    if not html or not html.strip():
        return SanitizedHtml("")
    fragment = _STYLE_ATTR.sub(_unquote_style, _visible_part(html))
    return SanitizedHtml(_cleaner().clean(fragment).strip())


def html_to_text(html: str) -> str:
    """Readable plain text for an HTML-only mail (search index, notifications, quoting)."""
    return sanitized_html_to_text(sanitize_html(html))


def sanitized_html_to_text(html: str) -> str:
    """html_to_text for output of sanitize_html: well-formed, which html2text's parser needs to stay fast."""
    if not html or not html.strip():
        return ""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_links = False
    converter.inline_links = True
    converter.protect_links = False
    converter.unicode_snob = True
    text = converter.handle(html)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_to_html(text: str) -> str:
    """Minimal HTML for a plain-text part that must sit next to HTML parts (multipart/mixed)."""
    escaped = html_lib.escape(text, quote=False)
    return "<div>" + escaped.replace("\r\n", "\n").replace("\n", "<br>") + "</div>"

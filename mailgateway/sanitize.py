"""Making HTML from untrusted mail safe to show to agents, and turning it into plain text."""

from __future__ import annotations

import html as html_lib
import re
import threading

import bleach
import html2text
from bleach._vendor.html5lib import _inputstream
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
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


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


# html5lib counts "invalid code points" in every chunk it reads, only to report them as parse errors
# (never used by bleach). Its one character class with astral code points makes the re module test
# every character against a big charset: 0.14 ms for a 2 KB Cyrillic fragment, a sixth of the whole
# clean(). The same count from a BMP-only class (a fast range test) plus, only when the text has astral
# characters at all, the astral non-characters: same errors, same tokens, same output.
_BMP_INVALID = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ASTRAL_INVALID = "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(1, 17))
_ASTRAL_INVALID_RE = re.compile(f"[{_ASTRAL_INVALID}]")
_HTML5LIB_INVALID = (
    "[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff" + _ASTRAL_INVALID + "\ud800-\udfff]"
)


def _count_invalid_codepoints(self, data: str) -> None:
    count = len(_BMP_INVALID.findall(data))
    if _ASTRAL.search(data):
        count += len(_ASTRAL_INVALID_RE.findall(data))
    self.errors.extend(["invalid-codepoint"] * count)


def _speed_up_html5lib() -> bool:
    """Swap in the faster count if html5lib still uses the class it was written against (a bleach
    upgrade that changes it keeps its own, slower one; tests/mailgateway/test_sanitize.py notices)."""
    stream_class = _inputstream.HTMLUnicodeInputStream
    pattern = getattr(getattr(_inputstream, "invalid_unicode_re", None), "pattern", None)
    if pattern != _HTML5LIB_INVALID or not hasattr(stream_class, "characterErrorsUCS4"):
        return False
    stream_class.characterErrorsUCS4 = _count_invalid_codepoints
    return True


HTML5LIB_SPED_UP = _speed_up_html5lib()

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
    lowered = None  # only lower-cased when there is something to cut: most mail has none
    out, pos = [], 0
    while match := _INVISIBLE_OPEN.search(html, pos):
        if lowered is None:
            lowered = html.lower()
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
    return _body_content(html)


def _body_content(html: str) -> str:
    """What is between <body ...> and </body> (or the end, less one final newline, as `$` matches
    before it); the whole text when there is no <body>. Two searches instead of one lazy regex, which
    tried the end pattern at every character of the body."""
    body = _BODY_OPEN.search(html)
    if body is None:
        return html
    close = _BODY_CLOSE.search(html, body.end())
    if close is not None:
        return html[body.end() : close.start()]
    return html[body.end() : -1 if html.endswith("\n") else None]


_STYLE_ATTR = re.compile(r"""(\bstyle\s*=\s*")([^"]*)(")""", re.IGNORECASE)


def _unquote_style(match: re.Match[str]) -> str:
    # bleach hands the CSS sanitizer the value with &quot; still escaped, which ends the
    # declaration early (Outlook writes font-family: &quot;Hiragino Sans&quot;).
    value = _QUOTE_ENTITY.sub("'", match.group(2))
    return match.group(1) + value + match.group(3)


_QUOTE_ENTITY = re.compile(r"&quot;|&#34;|&#x22;", re.IGNORECASE)


def _unquote_styles(html: str) -> str:
    # Scanning for style attributes is slow (the regex has no literal prefix to skip ahead with); it
    # can only change something where a quote entity occurs, which most mail has none of.
    if not _QUOTE_ENTITY.search(html):
        return html
    return _STYLE_ATTR.sub(_unquote_style, html)


def sanitize_html(html: str) -> SanitizedHtml:
    """Safe HTML fragment (the body content only) for display in the agent UI."""
    if not html or not html.strip():
        return SanitizedHtml("")
    fragment = _unquote_styles(_visible_part(html))
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

"""Pure, database-free parsing of raw RFC 5322 mail into a ParsedEmail.

The stdlib parser runs with the compat32 policy: it never raises on broken input, keeps
undeclared 8-bit header bytes recoverable (surrogateescape) and decodes x-uuencode bodies.
All charset decisions are made here (see charsets.py), never by the policy, because the
policy trusts labels that real mail gets wrong.
"""

from __future__ import annotations

import binascii
import email
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32

from mailgateway.charsets import (
    codec_name,
    decode_bytes,
    decode_encoded_words,
    decode_header_value,
    guess_decode,
    surrogate_bytes,
)
from mailgateway.sanitize import SanitizedHtml, sanitize_html, sanitized_html_to_text, text_to_html

from . import feedparser_boundary

feedparser_boundary.install()  # one compiled regex per multipart less (see the module)


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content: bytes
    content_type: str
    content_id: str = ""
    is_inline: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_email: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    x_original_to: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    is_auto_reply: bool = False
    is_bounce: bool = False
    bounced_message_id: str = ""
    bounced_subject: str = ""
    headers: dict[str, list[str]] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        """First decoded value of a header, or ''."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""


# --- headers ---------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MSGID = re.compile(r"<([^<>\s]+)>")


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", " ")


def _raw_headers(msg: Message) -> list[tuple[str, str]]:
    """Header (name, value) pairs as parsed, 8-bit bytes still surrogate-escaped.

    Kept on the message: parsing asks for a dozen headers one by one, and unfolding every header each
    time was a tenth of the parse time. Nothing here modifies a parsed message."""
    cached = getattr(msg, "_gateway_raw_headers", None)
    if cached is not None:
        return cached
    pairs = []
    for name, value in msg._headers:  # noqa: SLF001 - the only access to undecoded values
        pairs.append((str(name).strip().lower(), _unfold(str(value))))
    msg._gateway_raw_headers = pairs  # type: ignore[attr-defined]
    return pairs


def _raw(msg: Message, name: str) -> list[str]:
    by_name = msg.__dict__.get("_gateway_raw_by_name")
    if by_name is None:
        by_name = {}
        for key, value in _raw_headers(msg):
            by_name.setdefault(key, []).append(value)
        msg._gateway_raw_by_name = by_name  # type: ignore[attr-defined]
    return list(by_name.get(name, ()))


def _first_raw(msg: Message, name: str) -> str:
    values = _raw(msg, name)
    return values[0] if values else ""


def _decoded_headers(msg: Message, hint: str | None) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in _raw_headers(msg):
        headers.setdefault(name, []).append(_collapse(decode_header_value(value, hint)))
    return headers


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _message_ids(value: str) -> list[str]:
    ids = _MSGID.findall(value)
    if not ids:
        ids = [token.strip("<>") for token in re.split(r"[\s,]+", value) if "@" in token]
    return list(dict.fromkeys(ids))


def normalize_message_id(value: str) -> str:
    ids = _message_ids(value)
    return ids[0] if ids else value.strip().strip("<>").strip()


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    candidates = [value]
    # A broken header block can glue the next header onto the date (Zammad mail108).
    prefix = re.match(r"(.*?[+-]\d{4}|.*?\b(?:GMT|UTC|UT)\b)", value)
    if prefix:
        candidates.insert(0, prefix.group(1))
    for candidate in candidates:
        try:
            parsed = email.utils.parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if parsed is None:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# --- addresses -------------------------------------------------------------------------

_WHOLE_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?\S*?\?=")
_UNSAFE_LOCAL = re.compile(r"[\s@<>,;:\"()\[\]\\]")


def _address(addr: str, hint: str | None) -> str:
    """Lower-cased address; an encoded-word local part is decoded only if the result is inert.

    RFC 2047 forbids encoded-words in addr-specs. Decoding one that hides '@' or '>'
    would let a sender pick the address we see (Zammad mail117/mail118).
    """
    addr = addr.strip()
    local, at, domain = addr.rpartition("@")
    if at and _WHOLE_ENCODED_WORD.fullmatch(local):
        decoded = decode_encoded_words(local, hint)
        if decoded and not _UNSAFE_LOCAL.search(decoded):
            local = decoded
    return (f"{local}@{domain}" if at else addr).lower()


def _addresses(values: list[str], hint: str | None) -> list[tuple[str, str]]:
    if not values:  # most mail has no Cc, Reply-To, Delivered-To ...
        return []
    text_values = [_decode_8bit(value, hint) for value in values]
    pairs = []
    for name, addr in email.utils.getaddresses(text_values):
        if not addr or addr in ("<>",):
            continue
        pairs.append((_collapse(decode_encoded_words(name, hint)), _address(addr, hint)))
    return pairs


def _decode_8bit(value: str, hint: str | None) -> str:
    if value.isascii():
        return value
    return guess_decode(surrogate_bytes(value), hint)[0]


def _address_list(msg: Message, name: str, hint: str | None) -> list[str]:
    return list(dict.fromkeys(addr for _, addr in _addresses(_raw(msg, name), hint)))


# --- body walking ----------------------------------------------------------------------


@dataclass
class _Segment:
    """One piece of the body, in whichever renderings the mail provides."""

    text: str | None = None
    html: str | None = None


@dataclass
class _Walk:
    segments: list[_Segment] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    embedded: list[Message] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    has_delivery_status: bool = False


_UU_ENCODINGS = ("x-uuencode", "uuencode", "uue", "x-uue")


def _uudecode(text: str) -> bytes:
    """uudecode that, unlike the stdlib, also accepts data without the 'begin' line (Zammad mail078)."""
    out = bytearray()
    for line in text.replace("\r", "").split("\n"):
        if not line or line.startswith("begin ") or line.strip() in ("`", "end"):
            continue
        data = surrogate_bytes(line)
        try:
            out += binascii.a2b_uu(data)
        except (binascii.Error, ValueError):
            # Some encoders drop trailing spaces; the length byte says how much is meant.
            nbytes = (((data[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(data[:nbytes])
            except (binascii.Error, ValueError):
                continue
    return bytes(out)


def _payload_bytes(part: Message) -> bytes:
    cte = _header_str(part, "Content-Transfer-Encoding").strip().lower()
    # The undecoded payload: get_payload() would already decode 8-bit text with the declared charset.
    raw = part._payload  # noqa: SLF001
    if cte in _UU_ENCODINGS and isinstance(raw, str):
        return _uudecode(raw)
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken part must not lose the whole mail
        payload = None
    if isinstance(payload, bytes):
        return payload
    if isinstance(raw, str):
        return surrogate_bytes(raw)
    return b""


_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _content_type(part: Message) -> str:
    """part.get_content_type(), which parses the Content-Type header again at every call (a dozen
    times per part while walking). Kept on the part: nothing here modifies a parsed message."""
    ctype = part.__dict__.get("_gateway_content_type")
    if ctype is None:
        ctype = part._gateway_content_type = part.get_content_type()  # type: ignore[attr-defined]
    return ctype


def _maintype(part: Message) -> str:
    return _content_type(part).split("/")[0]  # as Message.get_content_maintype()


def _charset_param(part: Message) -> str | None:
    """The charset parameter as a plain string (None for a missing or RFC 2231 one), parsed once per part."""
    if "_gateway_charset" not in part.__dict__:
        charset = part.get_param("charset")
        part._gateway_charset = charset if isinstance(charset, str) else None  # type: ignore[attr-defined]
    return part._gateway_charset  # type: ignore[attr-defined]


def _part_text(part: Message) -> str:
    data = _payload_bytes(part)
    charset = _charset_param(part)
    if not charset and _content_type(part) == "text/html":
        # Without a MIME label, an HTML part often still declares its charset in a <meta> tag.
        meta = _META_CHARSET.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    return decode_bytes(data, charset)


def _param(part: Message, name: str, header: str) -> str:
    # get_param parses all parameters of the header; it can only find one the header mentions (also as
    # "name*0*" etc.), and most parts have no file name, so look for the word first.
    if name not in _header_str(part, header).lower():
        return ""
    value = part.get_param(name, header=header)
    if value is None:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded value)
        charset, _, text = value
        return decode_bytes(text.encode("latin-1", errors="surrogateescape"), charset or None)
    value = email.utils.unquote(value)
    return decode_encoded_words(_decode_8bit(value, None))


_MAX_FILENAME = 200


def _filename(part: Message) -> str:
    name = _param(part, "filename", "content-disposition") or _param(part, "name", "content-type")
    return _safe_filename(re.split(r"[\\/]", name)[-1])  # never let a sender choose a directory


def _safe_filename(name: str) -> str:
    name = (
        "".join(ch for ch in name if ch >= " " and ch != "\x7f").replace("/", "-").replace("\\", "-").strip()
    )
    if len(name) > _MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (
            stem[: _MAX_FILENAME - len(ext) - 1] + dot + ext
            if dot and len(ext) <= 10
            else name[:_MAX_FILENAME]
        )
    return name


def _default_filename(part: Message, stem: str = "attachment") -> str:
    ext = mimetypes.guess_extension(_content_type(part), strict=False) or ".bin"
    return stem + ext


def _header_str(part: Message, name: str) -> str:
    # compat32 returns a Header object instead of str when the value has 8-bit bytes.
    value = part.get(name)
    return "" if value is None else str(value)


def _disposition(part: Message) -> str:
    return _header_str(part, "Content-Disposition").split(";", 1)[0].strip().lower()


def _content_id(part: Message) -> str:
    value = _header_str(part, "Content-ID")
    return normalize_message_id(value) if value else ""


def _attachment(part: Message, filename: str = "", content: bytes | None = None) -> ParsedAttachment:
    return ParsedAttachment(
        filename=filename or _filename(part) or _default_filename(part),
        content=_payload_bytes(part) if content is None else content,
        content_type=_content_type(part),
        content_id=_content_id(part),
        is_inline=_disposition(part) == "inline"
        or (bool(_content_id(part)) and _disposition(part) != "attachment"),
    )


def _is_attachment(part: Message) -> bool:
    if _disposition(part) == "attachment":
        return True
    return _maintype(part) == "text" and bool(_filename(part))


def _message_bytes(inner: Message) -> bytes:
    try:
        return inner.as_bytes(policy=compat32)
    except Exception:  # noqa: BLE001 - the generator refuses some broken headers; rebuild by hand
        head = "".join(f"{name}: {value}\n" for name, value in inner._headers)  # noqa: SLF001
        body = inner._payload  # noqa: SLF001
        if isinstance(body, list):
            return surrogate_bytes(head + "\n") + b"\n".join(_message_bytes(p) for p in body)
        return surrogate_bytes(head + "\n" + str(body or ""))


def _walk_embedded(part: Message, walk: _Walk) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        walk.attachments.append(_attachment(part, filename=_filename(part) or "message.eml"))
        return
    walk.embedded.append(inner)
    subject = _collapse(decode_header_value(_first_raw(inner, "subject")))
    name = _filename(part) or _safe_filename(f"{subject or 'message'}.eml")
    walk.attachments.append(_attachment(part, filename=name, content=_message_bytes(inner)))


def _walk_headers_part(part: Message, walk: _Walk) -> None:
    content = _payload_bytes(part)
    walk.embedded.append(email.message_from_bytes(content, policy=compat32))
    walk.attachments.append(_attachment(part, filename=_filename(part) or "headers.txt", content=content))


def _walk_delivery_status(part: Message, walk: _Walk) -> None:
    walk.has_delivery_status = True
    payload = part.get_payload()
    if isinstance(payload, list):  # compat32 parses the status groups as header blocks
        content = b"\n".join(_message_bytes(group).strip(b"\n") for group in payload) + b"\n"
    else:
        content = _payload_bytes(part)
    description = _collapse(decode_header_value(_header_str(part, "Content-Description")))
    name = _filename(part) or f"{description or 'delivery-status'}.txt"
    walk.attachments.append(_attachment(part, filename=name, content=content))


def _walk_alternative(part: Message, walk: _Walk) -> None:
    text = html = None
    for child in part.get_payload():
        sub = _Walk()
        _walk_part(child, sub)
        walk.attachments.extend(sub.attachments)
        walk.embedded.extend(sub.embedded)
        walk.defects.extend(sub.defects)
        if sub.segments and all(s.text is not None and s.html is None for s in sub.segments):
            text = text if text is not None else "\n".join(s.text or "" for s in sub.segments)
        elif sub.segments:
            html = _segments_html(sub.segments)  # the last, richest alternative wins
    if text is not None or html is not None:
        walk.segments.append(_Segment(text=text, html=html))


def _walk_multipart(part: Message, walk: _Walk) -> None:
    children = part.get_payload()
    if not isinstance(children, list):
        walk.segments.append(_Segment(text=_part_text(part)))
        return
    subtype = _content_type(part).split("/")[1]
    if subtype == "alternative":
        _walk_alternative(part, walk)
        return
    for child in children:
        try:
            _walk_part(child, walk)
        except Exception as exc:  # noqa: BLE001 - one broken part must not cost the rest of the mail
            walk.defects.append(f"PartError: {type(exc).__name__}: {exc}")


def _walk_part(part: Message, walk: _Walk) -> None:
    walk.defects.extend(type(defect).__name__ for defect in part.defects)
    ctype = _content_type(part)
    # compat32 gives message/* parts a list payload too, so they are matched before multipart.
    if ctype in ("message/rfc822", "message/global"):
        _walk_embedded(part, walk)
    elif ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
        _walk_headers_part(part, walk)
    elif ctype in ("message/delivery-status", "message/global-delivery-status"):
        _walk_delivery_status(part, walk)
    elif part.is_multipart() or _maintype(part) == "multipart":
        _walk_multipart(part, walk)  # also a multipart without boundary: its payload is then text
    elif _is_attachment(part):
        walk.attachments.append(_attachment(part))
    elif ctype == "text/html":
        walk.segments.append(_Segment(html=_part_text(part)))
    elif _maintype(part) == "text" and ctype not in (
        "text/calendar",
        "text/x-vcard",
        "text/vcard",
    ):
        walk.segments.append(_Segment(text=_part_text(part)))
    else:
        walk.attachments.append(_attachment(part))


def _segments_html(segments: list[_Segment]) -> str:
    return "".join(s.html if s.html is not None else text_to_html(s.text or "") for s in segments)


def _body(walk: _Walk) -> tuple[str, str]:
    """(text, sanitized html) from the collected segments, in mail order."""
    if not any(s.html is not None for s in walk.segments):
        return _clean_text("\n".join(s.text or "" for s in walk.segments)), ""
    sanitized = [
        _Segment(text=s.text, html=sanitize_html(s.html) if s.html is not None else None)
        for s in walk.segments
    ]
    text = "\n".join(
        s.text if s.text is not None else sanitized_html_to_text(s.html or "") for s in sanitized
    )
    html = _segments_html(sanitized).strip()
    if all(s.html is not None for s in sanitized):
        html = SanitizedHtml(html)  # every piece came out of bleach: storing it need not clean it again
    return _clean_text(text), html


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.strip("\n").rstrip()


# --- classification --------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|auto-response|"
    r"away from (the )?office|abwesenheitsnotiz|automatische antwort|abwesend|"
    r"автоответ|автоматический ответ|нет на месте|вне офиса|отсутствую|я в отпуске)",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)(@|$)", re.IGNORECASE)


def _is_auto_reply(headers: dict[str, list[str]], subject: str) -> bool:
    def value(name: str) -> str:
        return " ".join(headers.get(name, [])).strip().lower()

    if value("auto-submitted") and not value("auto-submitted").startswith("no"):
        return True
    if value("x-autoreply") or value("x-autorespond") or value("x-autogenerated"):
        return True
    if value("precedence") in ("bulk", "junk", "list", "auto_reply"):
        return True
    suppress = {token.strip().lower() for token in value("x-auto-response-suppress").split(",")}
    if suppress & {"oof", "autoreply", "all"}:
        return True
    if "list-id" in headers or "list-unsubscribe" in headers:
        return True
    return bool(_AUTO_SUBJECT.search(subject))


def _is_bounce(msg: Message, walk: _Walk, from_email: str) -> bool:
    if _content_type(msg) == "multipart/report" and walk.has_delivery_status:
        return True
    if walk.has_delivery_status or _BOUNCE_SENDER.match(from_email):
        return True
    return_path = _first_raw(msg, "return-path").strip()
    return return_path == "<>"


_INLINE_ID = re.compile(r"^\s*Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
_INLINE_SUBJECT = re.compile(r"^\s*Subject:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)


def _bounced(walk: _Walk, text: str) -> tuple[str, str]:
    """Message-ID and subject of the message a bounce returns, to thread it to its ticket."""
    for inner in walk.embedded:
        message_id = normalize_message_id(_first_raw(inner, "message-id"))
        subject = _collapse(decode_header_value(_first_raw(inner, "subject")))
        if message_id or subject:
            return message_id, subject
    # Some MTAs quote the original headers in the plain-text notification instead.
    found_id, found_subject = _INLINE_ID.search(text), _INLINE_SUBJECT.search(text)
    return (found_id.group(1) if found_id else ""), (found_subject.group(1).strip() if found_subject else "")


# --- entry point -----------------------------------------------------------------------


def _charset_hint(msg: Message) -> str | None:
    """Charset of the first text part: the best guess for undeclared 8-bit header bytes."""
    for part in msg.walk():
        charset = _charset_param(part) if _maintype(part) == "text" else None
        if charset and codec_name(charset) not in (None, "ascii", "utf-8"):
            return charset
    return None


def parse(raw: bytes) -> ParsedEmail:
    """Parse raw mail bytes. Never raises: broken input gives a best-effort result with defects."""
    try:
        return _parse(raw)
    except Exception as exc:  # noqa: BLE001 - the gateway must be able to store and show anything
        text, _ = guess_decode(raw if isinstance(raw, bytes) else bytes(raw))
        return ParsedEmail(text=text, defects=[f"ParserCrash: {type(exc).__name__}: {exc}"])


def _parse(raw: bytes) -> ParsedEmail:
    msg = email.message_from_bytes(raw, policy=compat32)
    hint = _charset_hint(msg)
    headers = _decoded_headers(msg, hint)
    walk = _Walk()
    _walk_part(msg, walk)
    text, html = _body(walk)
    senders = _addresses(_raw(msg, "from"), hint) or _addresses(_raw(msg, "sender"), hint)
    from_name, from_email = senders[0] if senders else ("", "")
    subject = headers["subject"][0] if "subject" in headers else ""  # _decoded_headers decoded it already
    is_bounce = _is_bounce(msg, walk, from_email)
    bounced_id, bounced_subject = _bounced(walk, text) if is_bounce else ("", "")
    return ParsedEmail(
        message_id=normalize_message_id(_first_raw(msg, "message-id")),
        in_reply_to=_message_ids(_first_raw(msg, "in-reply-to")),
        references=_message_ids(" ".join(_raw(msg, "references"))),
        subject=subject,
        from_email=from_email,
        from_name=from_name,
        to=_address_list(msg, "to", hint),
        cc=_address_list(msg, "cc", hint),
        delivered_to=_address_list(msg, "delivered-to", hint),
        x_original_to=_address_list(msg, "x-original-to", hint),
        reply_to=_address_list(msg, "reply-to", hint),
        date=_parse_date(_first_raw(msg, "date")),
        text=text,
        html=html,
        attachments=walk.attachments,
        is_auto_reply=is_bounce or _is_auto_reply(headers, subject),
        is_bounce=is_bounce,
        bounced_message_id=bounced_id,
        bounced_subject=bounced_subject,
        headers=headers,
        defects=list(dict.fromkeys(walk.defects)),
    )

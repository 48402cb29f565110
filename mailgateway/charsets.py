"""Turning bytes of unknown or mislabelled charset into text, and RFC 2047 header decoding.

Real mail lies about its charset: labels are missing, bogus (``ks_c_5601-1987``,
``unknown-8bit``) or plainly wrong (Cyrillic sent as ``iso-8859-1``). Detectors such as
charset-normalizer are unreliable on the few dozen bytes of a header, so candidates are
ranked with a small plausibility score instead, which knows what mis-decoded text looks like.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

import charset_normalizer

# Labels seen in the wild that Python does not know, or knows as a narrower charset.
_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "latin-1": "latin-1",
    "utf8": "utf-8",
    "cp-850": "cp850",
}

# Labels that carry no information: the data must be guessed.
_MEANINGLESS = {"", "unknown-8bit", "x-unknown", "unknown", "default", "charset", "8bit", "binary"}

# Labels that decode any byte sequence without error, so a wrong label goes unnoticed
# unless the result is checked for plausibility.
_WEAK = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "cp1252", "windows-1252"}

# Tried in this order when the charset must be guessed; ties go to the earlier one.
_CANDIDATES = ("cp1251", "koi8-r", "cp1252", "iso-8859-2", "iso-8859-5", "cp866", "koi8-u", "iso-8859-15")

# Cyrillic letters of Serbian/Macedonian only: in mis-decoded Russian (cp1251 read as ISO-8859-5) they
# turn up constantly, in real mail to a Russian/Ukrainian/Belarusian helpdesk rarely.
_RARE_LETTERS = frozenset("ђѓѕјљњћќџЂЃЅЈЉЊЋЌЏ")

# The payload may contain '?' (Zammad mail117) but never the start of another encoded-word,
# which keeps matching linear on hostile headers full of unterminated "=?".
_SAMPLE = 16384

_RUSSIAN_VOWELS = frozenset("аеёиоуыэюяАЕЁИОУЫЭЮЯ")

_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?((?:[^\s?=]|\?(?!=)|=(?!\?)|=(?=\?=))*?)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")


def codec_name(label: str | None) -> str | None:
    """Python codec for a MIME charset label, or None if the label is unknown or meaningless."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 language suffix
    if label in _MEANINGLESS:
        return None
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: NUL bytes in a hostile label
        return None


def _is_weak(label: str | None) -> bool:
    return (label or "").strip().strip("\"'").lower() in _WEAK


def _script(ch: str) -> str:
    if ch < "\u0080":
        return "LATIN" if ch.isalpha() else "ascii"
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0]


def plausibility(text: str) -> float:
    """Higher for text that looks like natural language.

    Mis-decoded text gives itself away: scripts mixed within one word (``caf\u0439``),
    capitals inside lower-case words (KOI8-R read as windows-1251 swaps the case),
    runs of accented Latin letters (Cyrillic read as Latin-1), control and symbol characters.
    """
    score = 0.0
    prev = ""
    for ch in text:
        if ch.isalpha():
            score += 2 if ch.islower() else 1
            if ch in _RARE_LETTERS:
                score -= 4
            elif ch in "ъьыЪЬЫ" and (not prev.isalpha() or prev in _RUSSIAN_VOWELS):
                score -= 3  # impossible in Russian: short Cyrillic words otherwise tie between codepages
            if prev.isalpha():
                if _script(ch) != _script(prev):
                    score -= 5
                elif ch.isupper() and prev.islower():
                    score -= 3
                elif ch >= "\u00c0" and prev >= "\u00c0" and _script(ch) == "LATIN":
                    score -= 2
        elif unicodedata.category(ch) in ("Cc", "Co", "Cn", "So", "Sk", "Cs") and ch not in "\r\n\t\x0c№":
            score -= 5
        elif prev.isalpha() and not ch.isascii() and not ch.isspace():
            score -= 3  # a symbol glued to a word: "Pøíli¹" is ISO-8859-2 read as Latin-1
        prev = ch
    return score


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def guess_decode(data: bytes, hint: str | None = None) -> tuple[str, str]:
    """Decode bytes of unknown charset; returns (text, codec used)."""
    if data.isascii():
        if b"\x1b$" in data or b"\x1b(" in data:
            text = _try_decode(data, "iso2022_jp_ext")
            if text is not None:
                return text, "iso2022_jp_ext"
        return data.decode("ascii"), "ascii"
    text = _try_decode(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    candidates = [c for c in (codec_name(hint),) if c] + [codecs.lookup(c).name for c in _CANDIDATES]
    if len(data) >= 200:
        best = charset_normalizer.from_bytes(data[:_SAMPLE]).best()
        if best is not None and codec_name(best.encoding):
            candidates.append(codec_name(best.encoding))
    # Rank on a sample: scoring is per character in Python, and a long mail says the same thing early.
    sample = data[:_SAMPLE]
    best_codec, best_score = "", float("-inf")
    for codec in dict.fromkeys(candidates):
        try:
            score = plausibility(sample.decode(codec, errors="strict" if len(data) <= _SAMPLE else "ignore"))
        except (UnicodeDecodeError, LookupError):
            continue
        if score > best_score and _try_decode(data, codec) is not None:
            best_codec, best_score = codec, score
    if not best_codec:
        return data.decode("cp1252", errors="replace"), "cp1252"
    return data.decode(best_codec), best_codec


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode body or header bytes, trusting the declared label only where it is credible."""
    codec = codec_name(label)
    if codec:
        text = _try_decode(data, codec)
        if text is not None and (data.isascii() or not _is_weak(label)):
            return text
        if text is not None:
            # A weak label decodes anything; keep it unless another charset reads clearly better.
            guessed, guessed_codec = guess_decode(data, hint=None)
            if plausibility(guessed) > plausibility(text) * 1.2 + 2:
                return guessed
            return text
    return guess_decode(data, hint=label)[0]


def surrogate_bytes(value: str) -> bytes:
    """Bytes behind a header string that the stdlib parser decoded with surrogateescape."""
    return value.encode("utf-8", errors="surrogateescape")


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        return lenient_b64decode(payload)
    raw = payload.replace("_", " ").encode("latin-1", errors="replace")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def lenient_b64decode(payload: str) -> bytes:
    """Base64 that tolerates missing padding, stray characters and a dangling last character."""
    data = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    if len(data) % 4 == 1:
        data = data[:-1]
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def decode_encoded_words(text: str, hint: str | None = None) -> str:
    """Resolve RFC 2047 encoded-words, leniently.

    Adjacent words are joined before decoding when they share a charset, because senders
    split multi-byte characters across words. Whitespace between encoded-words is dropped
    (RFC 2047 section 6.2). The match is lax about '?' inside the payload, as Zammad is.
    """
    if "=?" not in text:  # every encoded-word starts so; most header values have none
        return text
    out: list[str] = []
    pos = 0
    pending: list[tuple[str, bytes]] = []  # (charset label, bytes) of adjacent words

    def flush() -> None:
        while pending:
            label = pending[0][0]
            chunk = b""
            while pending and pending[0][0].lower() == label.lower():
                chunk += pending.pop(0)[1]
            out.append(decode_bytes(chunk, label or hint))

    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos : match.start()]
        if gap and not (pending and _BETWEEN_WORDS.fullmatch(gap)):
            flush()
            out.append(gap)
        pending.append((match.group(1), _decode_word_payload(match.group(2), match.group(3))))
        pos = match.end()
    flush()
    out.append(text[pos:])
    return "".join(out)


def decode_header_value(value: str, hint: str | None = None) -> str:
    """Decode a raw header value: undeclared 8-bit bytes first, then encoded-words."""
    if not value.isascii():
        value = guess_decode(surrogate_bytes(value), hint)[0] if _has_surrogates(value) else value
    return decode_encoded_words(value, hint)


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)

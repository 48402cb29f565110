"""The storing key: read from the header block as the stdlib's compat32 header parser reads it, whichever
path computes it, and stable across releases (a mail fetched again after an upgrade must still match)."""

from __future__ import annotations

import hashlib
from email.parser import BytesHeaderParser
from email.policy import compat32

import pytest

from mailgateway.parsing import normalize_message_id
from mailgateway.services import _header_block, _simple_headers, dedupe_key


def _key_by_the_stdlib_parser(raw: bytes) -> tuple[str, str]:
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[: min(ends) + 1] if ends else raw)
    message_id = normalize_message_id(str(headers.get("Message-ID", "")))
    if not message_id:
        return f"sha256:{hashlib.sha256(raw).hexdigest()}", ""
    origin = " ".join(" ".join(str(headers.get(h, "")).split()) for h in ("From", "Date"))
    digest = hashlib.sha256(origin.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"mid:{message_id}:{digest}", message_id


def test_key_of_a_stored_mail_does_not_change():
    raw = (
        b"Received: from x\r\n by y\r\nFrom: Ivan <ivan@customer.example>\r\nDate: Mon, 15 Jan 2024\r\n"
        b" 10:15:00 +0300\r\nMessage-ID:\r\n <pin-1@customer.example>\r\nSubject: x\r\n\r\nbody\r\n"
    )
    assert dedupe_key(raw) == ("mid:pin-1@customer.example:afa43994253f41ec", "pin-1@customer.example")
    raw = b"From: =?utf-8?b?0J/QvtGH0YLQsA==?= <a@b.c>\nFrom: second@x\nmessage-id: <pin-2@x>\n\nbody"
    assert dedupe_key(raw) == ("mid:pin-2@x:bf6ccc2c41c2c720", "pin-2@x")


@pytest.mark.parametrize(
    "raw",
    [
        b"Message-ID: <a@b>\nFrom: x@y\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nbody",
        b"Message-ID: <a@b>\r\nFrom: x@y\r\n\r\nbody\n\nmore",
        b"MESSAGE-ID:\t <a@b> \nfrom:x@y\n",  # no blank line, no body
        b"Message-ID: <a@b>\nFrom: first@y\nFrom: second@y\nMessage-ID: <c@d>\n\n",
        b"Subject: x\nMessage-ID:   \n\t<a@b>\n \nFrom: x\n  @y\n\n",  # folded, blank fold
        b"Message-ID: <a@b>\nFrom: x@y\r\n\nDate: in the body\n",
        b"Message-ID: <a@b>\nFrom: x@y\n\r\nDate: in the body\n",
        b"From someone Mon Jan 1 2024\nMessage-ID: <a@b>\nFrom: x@y\n\n",  # mbox envelope line
        b"Message-ID: <a@b>\nFrom x@y\nFrom: z@y\n\n",  # misplaced envelope line
        b" folded first\nMessage-ID: <a@b>\nFrom: x@y\n\n",
        b"Message-ID: <a@b>\nnot a header\nFrom: x@y\n\n",  # the header block ends early
        b"Message-ID : <a@b>\nFrom: x@y\n\n",
        b": no name\nMessage-ID: <a@b>\n\n",
        b"Message-ID: <a@b>\rFrom: x@y\r\r\n",  # bare CR
        b"Message-ID: <a@b>\nFrom: \xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd <x@y>\n\n",  # 8-bit
        b"Message-ID: <a@b>\nFrom: x@y\x0b\x0c z\nDate: 1\x1c2\n\n",  # not line ends for the parser
        b"X-No-Id: 1\n\nbody",
        b"\nMessage-ID: <a@b>\n",
        b"\r\nMessage-ID: <a@b>\n",
    ],
)
def test_key_is_what_the_stdlib_header_parser_reads(raw):
    assert dedupe_key(raw) == _key_by_the_stdlib_parser(raw)


def test_usual_header_block_is_read_without_the_stdlib_parser():
    raw = (
        b"From: Ivan <ivan@x>\nMessage-ID: <a@b>\nContent-Type: multipart/alternative;\n boundary=b\n\n--b\n"
    )
    assert _simple_headers(_header_block(raw)) == {"message-id": "<a@b>", "from": "Ivan <ivan@x>", "date": ""}

"""Build raw test messages with the stdlib (real MIME, real encodings)."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.utils import timezone

FIXTURES = Path(__file__).parent / "fixtures"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 400
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 400


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mail(
    *,
    sender: str = "ivan@customer.example",
    sender_name: str = "",
    to: str = "support@helpdesk.example",
    subject: str = "Printer is broken",
    body: str = "Hello, the printer does not work.",
    html: str = "",
    cc: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
    inline: list[tuple[str, bytes, str, str]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id if message_id is not None else make_msgid(domain="customer.example")
    if not msg["Message-ID"]:
        del msg["Message-ID"]
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for filename, data, ctype, cid in inline:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, cid=f"<{cid}>",
                           disposition="inline")
    return msg.as_bytes()


def bounce_for(message_id: str, subject: str, recipient: str = "ivan@customer.example") -> bytes:
    return f"""From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)
To: support@helpdesk.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-{abs(hash(message_id))}@mx.customer.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=us-ascii

This is the mail system. Your message could not be delivered to <{recipient}>: mailbox full.

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.2.2

--BOUND
Content-Type: message/rfc822

From: support@helpdesk.example
To: {recipient}
Subject: {subject}
Message-ID: {message_id}

Our answer.

--BOUND--
""".replace("\n", "\r\n").encode()

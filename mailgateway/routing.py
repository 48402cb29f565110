"""Which ticket and which department an incoming mail belongs to. Reads only, never writes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q

from departments.models import Department, DepartmentAddress, RoutingRule
from helpdesk_site.rowsql import select_one
from tickets.memo import per_batch
from tickets.models import Message, Ticket
from tickets.tokens import parse_reply_address

from .models import Mailbox, OutboundEmail
from .parsing import ParsedEmail

SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")


def base_address(address: str) -> str:
    """support+t10234.abc@example.com -> support@example.com (plus-addressing lands in one mailbox)."""
    local, _, domain = address.strip().lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def recipients(parsed: ParsedEmail) -> list[str]:
    """Where the mail was delivered, most reliable first: the envelope headers our MTA adds, then
    the To/Cc the sender wrote (which may list other people's addresses too)."""
    found = [*parsed.delivered_to, *parsed.x_original_to, *parsed.to, *parsed.cc]
    return list(dict.fromkeys(a.strip().lower() for a in found if "@" in a))


@per_batch
def our_addresses() -> set[str]:
    """Every address the helpdesk itself sends from or receives at (one query)."""
    found = set(
        DepartmentAddress.objects.order_by()
        .values_list("email", flat=True)
        .union(
            Department.objects.order_by().values_list("from_email", flat=True),
            Mailbox.objects.order_by().values_list("username", flat=True),
        )
    )
    found.update({settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL})
    return {base_address(a) for a in found if a and "@" in a}


def is_our_address(address: str, ours: set[str]) -> bool:
    return base_address(address) in ours or parse_reply_address(address.lower()) is not None


def is_own_mail(parsed: ParsedEmail, ours: set[str]) -> bool:
    """Our own outgoing mail coming back (a forwarding loop, a list echo): never process it."""
    if parsed.from_email and is_our_address(parsed.from_email, ours):
        return True
    # Our Message-IDs all end in the DEFAULT_FROM_EMAIL domain (outbound.make_message_id): skip the
    # lookup for everyone else's mail.
    domain = "@" + settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].lower()
    if not parsed.message_id.lower().endswith(domain):
        return False
    return OutboundEmail.objects.filter(message_id_header=f"<{parsed.message_id}>").exists()


def final_ticket(ticket: Ticket | None) -> Ticket | None:
    """Mail to a merged ticket belongs to the ticket it was merged into (follow chains, bounded)."""
    for _ in range(10):
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = ticket.merged_into
    return ticket


def ticket_by_reply_address(addresses: Iterable[str]) -> Ticket | None:
    for address in addresses:
        number = parse_reply_address(address)
        if number is not None:
            return ticket_by_number(number)
    return None


def ticket_by_message_ids(ids: Iterable[str]) -> Ticket | None:
    """A ticket whose stored or sent Message-ID is among ids (the most recent reference wins)."""
    for mid in reversed([i.strip("<>") for i in ids if i]):
        message = Message.objects.filter(message_id=mid).select_related("ticket__customer").first()
        if message is not None:
            return message.ticket
        sent = (
            OutboundEmail.objects.filter(message_id_header=f"<{mid}>", ticket__isnull=False)
            .select_related("ticket__customer")
            .first()
        )
        if sent is not None:
            return sent.ticket
    return None


def ticket_by_subject(subject: str) -> Ticket | None:
    match = SUBJECT_TAG.search(subject or "")
    return ticket_by_number(int(match.group(1))) if match else None


def ticket_by_number(number: int) -> Ticket | None:
    """The ticket with its customer (raw SQL composed once: the ORM took 1 ms of CPU to compose it), or
    the one the batch read already (remember_tickets)."""
    if not 0 < number < 2**63:
        return None
    known = _known_by_number()
    if number in known:
        return known[number]
    return select_one(Ticket, "t.number = %s", [number], related="customer")


def remember_tickets(numbers: Iterable[int], tickets: Iterable[Ticket]) -> None:
    """Tickets the batch read (and locked) up front by number, for ticket_by_number; numbers with no
    ticket are remembered as such."""
    known = _known_by_number()
    known.update(dict.fromkeys(numbers))
    known.update({t.number: t for t in tickets})


@per_batch
def _known_by_number() -> dict[int, Ticket | None]:
    return {}


def find_ticket(parsed: ParsedEmail) -> Ticket | None:
    """Threading, in order of trust: our signed reply address, then Message-ID references, then the
    [#ref] tag in the subject (whatever Re:/AW:/Ответ: prefixes surround it)."""
    ticket = (
        ticket_by_reply_address(recipients(parsed))
        or ticket_by_message_ids([*parsed.references, *parsed.in_reply_to])
        or ticket_by_subject(parsed.subject)
    )
    return final_ticket(ticket)


def find_bounced_ticket(parsed: ParsedEmail) -> Ticket | None:
    """The ticket a bounce belongs to: the returned message is (usually) one we sent."""
    ticket = (
        ticket_by_message_ids([parsed.bounced_message_id])
        or ticket_by_subject(parsed.bounced_subject)
        or find_ticket(parsed)
    )
    return final_ticket(ticket)


def route_department(parsed: ParsedEmail, mailbox: Mailbox | None = None) -> Department:
    """Inbound address, then the mailbox's default, then routing rules, then triage."""
    return (
        _department_by_address(recipients(parsed))
        or (mailbox.department if mailbox and mailbox.department_id and mailbox.department.is_active else None)
        or _department_by_rules(parsed)
        or _triage()
    )


def _department_by_address(addresses: list[str]) -> Department | None:
    found = _inbound_addresses()
    return next((found[b] for b in (base_address(a) for a in addresses) if b in found), None)


@per_batch
def _inbound_addresses() -> dict[str, Department]:
    """Every active department's inbound addresses (a few dozen rows, read once per batch)."""
    rows = DepartmentAddress.objects.filter(department__is_active=True).select_related("department")
    return {base_address(a.email): a.department for a in rows}


def _department_by_rules(parsed: ParsedEmail) -> Department | None:
    domain = parsed.from_email.rpartition("@")[2].lower()
    subject = parsed.subject.lower()
    for rule in _routing_rules():
        value = rule.value.strip().lower()
        if not value:
            continue
        if rule.kind == RoutingRule.Kind.SENDER_DOMAIN and (domain == value or domain.endswith("." + value)):
            return rule.department
        if rule.kind == RoutingRule.Kind.SUBJECT_KEYWORD and value in subject:
            return rule.department
    return None


@per_batch
def _routing_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(is_active=True, department__is_active=True).select_related("department"))


@per_batch
def _triage() -> Department:
    department = Department.objects.filter(Q(is_triage=True), is_active=True).first()
    if department is None:
        department = Department.objects.filter(is_active=True).order_by("position", "pk").first()
    if department is None:
        raise Department.DoesNotExist("No active department to receive mail")
    return department

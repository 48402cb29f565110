"""HMAC-signed tokens: no table, tamper-proof (like django.contrib.auth.tokens)."""

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac


def ticket_token(number: int, purpose: str = "reply") -> str:
    return salted_hmac(f"helpdesk.{purpose}", str(number), secret=settings.SECRET_KEY).hexdigest()[:16]


def check_ticket_token(number: int, token: str, purpose: str = "reply") -> bool:
    return constant_time_compare(ticket_token(number, purpose), token or "")


def reply_address(from_email: str, number: int) -> str:
    """support@example.com -> support+t10234.<token>@example.com (plus-addressing on the same mailbox)."""
    local, _, domain = from_email.partition("@")
    return f"{local}+t{number}.{ticket_token(number)}@{domain}"


def parse_reply_address(address: str) -> int | None:
    """The ticket number from a reply address, if its signature is valid."""
    local = address.partition("@")[0]
    _, plus, tag = local.partition("+t")
    number, dot, token = tag.partition(".")
    if not (plus and dot and number.isdigit()):
        return None
    return int(number) if check_ticket_token(int(number), token) else None


def rating_token(message_id: int, customer_id: int) -> str:
    """Signs a one-click rating link for one agent reply and the ticket's customer."""
    value = f"{message_id}:{customer_id}"
    return salted_hmac("helpdesk.rating", value, secret=settings.SECRET_KEY).hexdigest()[:32]


def check_rating_token(message_id: int, customer_id: int, token: str) -> bool:
    return constant_time_compare(rating_token(message_id, customer_id), token or "")

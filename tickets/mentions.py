"""@mentions in internal notes: `@anna` names an agent of the ticket's department by the local part of
his email address, by his display name without spaces (`@annatech`), or by a first name that only one
of them has. Parsing is pure; resolving reads the department's active members."""

import re

from departments.models import Membership

MENTION = re.compile(r"(?<![\w@.])@([\w][\w.+-]*[\w]|[\w])", re.UNICODE)


def parse_mentions(text: str) -> set[str]:
    """Lower-cased handles mentioned in the text; an email address is not a mention."""
    return {m.group(1).lower() for m in MENTION.finditer(text or "")}


def _keys(user) -> tuple[set[str], str]:
    """(exact handles, first name) of an agent."""
    name = (user.display_name or "").lower()
    exact = {user.email.split("@", 1)[0].lower(), "".join(name.split())} - {""}
    return exact, (name.split() or [""])[0]


def resolve_mentions(department_id: int, text: str) -> list:
    handles = parse_mentions(text)
    if not handles:
        return []
    members = [
        m.user
        for m in Membership.objects.filter(department_id=department_id, user__is_active=True).select_related(
            "user"
        )
    ]
    found = {}
    for handle in handles:
        exact = [u for u in members if handle in _keys(u)[0]]
        by_first = [u for u in members if _keys(u)[1] == handle]
        for user in exact or (by_first if len(by_first) == 1 else []):
            found[user.pk] = user
    return sorted(found.values(), key=lambda u: u.pk)

"""Who is looking at or replying to a ticket right now, for the collision warning.

Heartbeats live in the cache (one small dict per ticket, entries expire after TTL seconds): losing
them costs nothing, and a table would add a write per agent per ticket every few seconds. Two
heartbeats racing on the read-modify-write can drop one entry for one interval, which is harmless."""

import time

from django.core.cache import cache

TTL = 45  # seconds; the page sends a heartbeat every 15
VIEWING = "viewing"
REPLYING = "replying"


def _key(ticket_id: int) -> str:
    return f"helpdesk:presence:{ticket_id}"


def heartbeat(ticket_id: int, user, mode: str = VIEWING, now: float | None = None) -> None:
    now = time.time() if now is None else now
    entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    entries[str(user.pk)] = {"name": user.name, "mode": REPLYING if mode == REPLYING else VIEWING, "at": now}
    cache.set(_key(ticket_id), entries, TTL * 2)


def leave(ticket_id: int, user) -> None:
    entries = cache.get(_key(ticket_id)) or {}
    if entries.pop(str(user.pk), None) is not None:
        cache.set(_key(ticket_id), entries, TTL * 2)


def others(ticket_id: int, user, now: float | None = None) -> list[dict]:
    """Other agents present, replying ones first."""
    now = time.time() if now is None else now
    entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    entries.pop(str(user.pk), None)
    return sorted(entries.values(), key=lambda e: (e["mode"] != REPLYING, e["name"]))


def _fresh(entries: dict, now: float) -> dict:
    return {k: v for k, v in entries.items() if now - v["at"] < TTL}

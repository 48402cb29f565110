"""Fixed-window counters in the cache: cheap brute-force protection for login and registration.

A cache (Redis in production via CACHE_URL) is enough: a lost counter only means a few extra attempts.
Not django-axes: it needs its own tables, an authentication backend that refuses authenticate() without
a request (Client.login in tests, the admin's login, management scripts) and middleware, for what these
few lines do for the one login form we have.
"""

from django.core.cache import cache


def _key(scope: str, ident: str) -> str:
    return f"throttle:{scope}:{ident.lower()}"[:240]


def is_blocked(scope: str, ident: str, limit: int) -> bool:
    return (cache.get(_key(scope, ident)) or 0) >= limit


def hit(scope: str, ident: str, window_seconds: int) -> int:
    """Count one attempt; the window starts with the first attempt."""
    key = _key(scope, ident)
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        return 1


def reset(scope: str, ident: str) -> None:
    cache.delete(_key(scope, ident))


def client_ip(request) -> str:
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; deployments there set
    # HELPDESK_TRUST_X_FORWARDED_FOR so the real client address is throttled instead.
    from django.conf import settings

    if getattr(settings, "HELPDESK_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")

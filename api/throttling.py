from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerTokenRateThrottle(SimpleRateThrottle):
    """HELPDESK_API_RATE (e.g. "600/min") per token; per user for browser sessions, per IP otherwise.
    The rate is read on every request, so it can be changed in settings (and in tests) at run time."""

    scope = "api"

    def get_rate(self):
        return settings.HELPDESK_API_RATE

    def get_cache_key(self, request, view):
        token = request.auth
        if token is not None and hasattr(token, "pk"):
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"

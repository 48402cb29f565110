"""Context processors of the agent pages."""

from departments.permissions import is_agent
from mailgateway.health import failing_mailboxes

from . import page_cache


def mailbox_health(request):
    """mailgateway.health.mailbox_health (the failing-mailbox banner, agents only) through the page cache:
    one query less on every agent page; a failing mailbox shows within HELPDESK_MAILBOX_BANNER_MAX_AGE
    seconds (default 10), a mailbox changed in the admin at once."""
    user = getattr(request, "user", None)
    if user is None or not is_agent(user):
        return {}

    def compute(_missing):
        return {page_cache.MAILBOXES: list(failing_mailboxes().only("name", "last_error", "last_success_at"))}

    found = page_cache.cached_per_scope(
        "banner", [page_cache.MAILBOXES], compute, max_age=page_cache.banner_max_age()
    )
    return {"failing_mailboxes": found[page_cache.MAILBOXES]}

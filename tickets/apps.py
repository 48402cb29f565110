from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from . import page_cache

        page_cache.connect_signals()
        # Registers the context builders of mail rendered at send time (mailgateway.outbound), which the
        # send task needs in a worker that never imported the ticket services.
        from . import notifications  # noqa: F401

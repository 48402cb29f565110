from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _sqlite_casefold(sender, connection, **kwargs):
    """SQLite's LIKE and LOWER() fold ASCII only; the substring fallback needs Cyrillic folded too."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "helpdesk_casefold", 1, lambda s: s.casefold() if isinstance(s, str) else s, deterministic=True
        )


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = _("Search and workspaces")

    def ready(self):
        connection_created.connect(_sqlite_casefold, dispatch_uid="search_sqlite_casefold")

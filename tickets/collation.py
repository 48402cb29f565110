"""Human sort order for names and subjects in any script.

Databases are often created with the "C" collation (byte order): Cyrillic then sorts after Latin, all
capitals before all lower-case letters, and "Ё" before "А". PostgreSQL 15 ships ICU collations; the
root ("und") collation orders Latin, Cyrillic and the rest the way a dictionary does, independent of
the database's own locale. SQLite has no ICU, so there we keep the plain column order.
"""

from django.db import connections
from django.db.models import F
from django.db.models.functions import Collate

ICU_COLLATION = "und-x-icu"


def natural_order(field: str, *, using: str = "default"):
    """An expression to order `field` by, e.g. qs.order_by(natural_order("customer__display_name").desc())."""
    if connections[using].vendor == "postgresql":
        return Collate(F(field), ICU_COLLATION)
    return F(field)

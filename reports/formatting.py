"""Figures as text, shared by the template filters and the pre-formatted table rows."""

from django.utils.translation import gettext as _


def duration(seconds) -> str:
    """Seconds as a short human duration: '45 s', '12 min', '3 h 05 min', '2 d 4 h'; '—' for none."""
    if seconds is None or seconds == "":
        return "—"
    s = int(round(float(seconds)))
    if s < 60:
        return _("%(s)d s") % {"s": s}
    if s < 3600:
        return _("%(m)d min") % {"m": s // 60}
    if s < 86400:
        return _("%(h)d h %(m)02d min") % {"h": s // 3600, "m": s % 3600 // 60}
    return _("%(d)d d %(h)d h") % {"d": s // 86400, "h": s % 86400 // 3600}


def average(value) -> str:
    return "—" if value in (None, "") else f"{float(value):.2f}"

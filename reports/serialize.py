"""Reports as JSON (the API form of the page): the same rows as the tables, keyed by column."""

from __future__ import annotations

from . import tables


def _row(row: dict, columns) -> dict:
    out = {}
    for c in columns:
        value = row.get(c.key)
        if c.key == "agent" and value is not None:
            out["agent"] = {"id": value.pk, "name": value.name, "email": value.email, "active": value.is_active}
        elif c.key == "department" and value is not None:
            out["department"] = {"id": value.pk, "slug": value.slug, "name": value.name}
        elif c.key == "day":
            out["day"] = value.isoformat()
        else:
            out[c.key] = value if value is not None or c.kind != tables.INT else 0
    return out


def report_json(report) -> dict:
    return {
        "period": {"since": report.period.first_day.isoformat(), "until": report.period.last_day.isoformat()},
        "totals": {k: v for k, v in report.totals.items() if not k.startswith("h")},
        "departments": [_row(r, tables.DEPARTMENT_COLUMNS) for r in report.by_department],
        "agents": [_row(r, tables.AGENT_COLUMNS) for r in report.agents],
        "daily": [_row(r, tables.DAILY_COLUMNS) for r in report.daily],
        "ratings": {str(k): v for k, v in report.ratings.items()},
        "reply_wait_histogram": report.histogram,
    }

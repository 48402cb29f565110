"""Duration statistics (count, average, median, 90th percentile) computed by the database.

PostgreSQL has ordered-set aggregates (percentile_cont ... WITHIN GROUP); other databases (SQLite for the
embedded demo) get the same numbers from the column values in Python.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, QuerySet


class PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    name = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


def has_percentiles() -> bool:
    return connection.vendor == "postgresql"


ALL_STATS = ("avg", "median", "p90")


def stat_annotations(field: str, prefix: str, stats=ALL_STATS) -> dict:
    """Annotations {prefix}_count and those of _avg/_median/_p90 asked for, over a column (PostgreSQL).
    Percentiles sort their group's values: ask only for those a page shows."""
    makers = {
        "avg": lambda: Avg(field),
        "median": lambda: PercentileCont(field, 0.5),
        "p90": lambda: PercentileCont(field, 0.9),
    }
    return {f"{prefix}_count": Count(field), **{f"{prefix}_{s}": makers[s]() for s in stats}}


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Linear interpolation, as percentile_cont."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def python_stats(values: list[float], prefix: str) -> dict:
    values = sorted(v for v in values if v is not None)
    return {
        f"{prefix}_count": len(values),
        f"{prefix}_avg": statistics.fmean(values) if values else None,
        f"{prefix}_median": percentile(values, 0.5),
        f"{prefix}_p90": percentile(values, 0.9),
    }


def grouped_stats(
    qs: QuerySet, group: str | None, fields: dict[str, str], extra: dict | None = None, stats=ALL_STATS
) -> dict:
    """{group value: {prefix_count, prefix_avg, prefix_median, prefix_p90, **extra}} for each column in
    `fields` (prefix -> column); group None gives {None: {...}} over the whole queryset."""
    extra = extra or {}
    if has_percentiles():
        annotations = {
            k: v for prefix, f in fields.items() for k, v in stat_annotations(f, prefix, stats).items()
        }
        if group is None:
            return {None: qs.aggregate(**annotations, **extra)}
        rows = qs.order_by().values(group).annotate(**annotations, **extra)
        return {row.pop(group): row for row in rows}
    # Fallback: one pass over the values (fine for the embedded SQLite demo's size).
    columns = ([group] if group else []) + list(fields.values())
    buckets: dict = defaultdict(lambda: defaultdict(list))
    for row in qs.order_by().values_list(*columns):
        key, values = (row[0], row[1:]) if group else (None, row)
        for prefix, value in zip(fields, values, strict=True):
            buckets[key][prefix].append(value)
    counts = (
        {None: qs.aggregate(**extra)}
        if group is None and extra
        else {r.pop(group): r for r in qs.order_by().values(group).annotate(**extra)} if extra else {}
    )
    result = {}
    for key in set(buckets) | set(counts):
        row = {}
        for prefix in fields:
            row.update(python_stats(buckets[key][prefix], prefix))
        row.update(counts.get(key, {k: 0 for k in extra}))
        result[key] = row
    if group is None and None not in result:
        result[None] = {k: v for prefix in fields for k, v in python_stats([], prefix).items()} | {
            k: 0 for k in extra
        }
    return result

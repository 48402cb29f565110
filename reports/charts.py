"""Server-side SVG charts: geometry computed here, drawn by templates/reports/_chart_*.html. No JavaScript;
each chart has a title and a text summary for screen readers, and its numbers are in a table next to it."""

from __future__ import annotations

from datetime import date

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


def _nice_max(value: float) -> int:
    """A round axis maximum >= value (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _y(value: float, top: int) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top), 1)


def _y_ticks(top: int) -> list[dict]:
    return [{"y": _y(top * i / 4, top), "label": f"{top * i / 4:g}"} for i in range(5)]


def line_chart(days: list[date], series: list[tuple[str, str, list[int]]]) -> dict:
    """series: (label, css class, one value per day)."""
    top = _nice_max(max((max(v, default=0) for _, _, v in series), default=0))
    span = WIDTH - LEFT - RIGHT
    n = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + span * i / n, 1)

    lines = [
        {"label": label, "cls": cls, "points": " ".join(f"{x(i)},{_y(v, top)}" for i, v in enumerate(values))}
        for label, cls, values in series
    ]
    every = max(1, len(days) // 6)
    x_ticks = [{"x": x(i), "label": d.strftime("%d.%m")} for i, d in enumerate(days) if i % every == 0]
    return {"width": WIDTH, "height": HEIGHT, "lines": lines, "y_ticks": _y_ticks(top), "x_ticks": x_ticks,
            "left": LEFT, "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM}


def bar_chart(labels: list[str], values: list[int]) -> dict:
    top = _nice_max(max(values, default=0))
    span = WIDTH - LEFT - RIGHT
    slot = span / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _y(value, top)
        bars.append({"x": round(LEFT + slot * i + slot * 0.15, 1), "w": round(slot * 0.7, 1), "y": y,
                     "h": round(HEIGHT - BOTTOM - y, 1), "label": label, "value": value,
                     "cx": round(LEFT + slot * (i + 0.5), 1)})
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "y_ticks": _y_ticks(top),
            "left": LEFT, "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM}

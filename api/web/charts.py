"""Small charts drawn on the server as inline SVG (no chart library in the browser)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from engine.queries.monitoring import WeekFigure

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 40


def compliance_chart(weeks: Sequence[WeekFigure], *, title: str, no_data: str) -> Markup:
    """A bar per week: the share of tasks completed on time (0-100 %), with counts."""
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(weeks), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f'<title>{escape(title)}</title>',
    ]
    for percent in (0, 50, 100):
        y = TOP + inner_h * (1 - percent / 100)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                     f'y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{percent}%</text>')
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + slot * 0.15
        width = slot * 0.7
        label = week.week_start.strftime("%d-%m")
        parts.append(f'<text class="axis" x="{x + width / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle">{label}</text>')
        share = week.compliance
        if share is None:
            parts.append(f'<text class="none" x="{x + width / 2:.1f}" '
                         f'y="{TOP + inner_h - 4}" text-anchor="middle">{escape(no_data)}</text>')
            continue
        height = inner_h * share
        kind = "good" if share >= 0.9 else "fair" if share >= 0.7 else "poor"
        parts.append(
            f'<rect class="bar {kind}" data-week="{week.week_start.isoformat()}" '
            f'x="{x:.1f}" y="{TOP + inner_h - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}"><title>{label}: {week.on_time}/{week.completed} '
            f'({share * 100:.0f}%)</title></rect>')
        parts.append(f'<text class="value" x="{x + width / 2:.1f}" '
                     f'y="{TOP + inner_h - height - 4:.1f}" text-anchor="middle">'
                     f'{share * 100:.0f}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

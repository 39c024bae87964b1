"""The π error plot: |error| against N on log-log axes, with the 1/N bound, as SVG text."""

from __future__ import annotations

import math
from collections.abc import Sequence

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 20, 56
FLOOR = 1e-17             # an |error| of 0 (or below a float's reach) is drawn here
MAX_TICKS = 12
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
POINT, BOUND, AXIS, GRID, TEXT = "#1f6feb", "#d1242f", "#57606a", "#d8dee4", "#24292f"


def scientific(x: float) -> str:
    """`x` as the prompt prints it, 1.000e-09: the console's one scientific format (sci() in
    app.js writes the same)."""
    return f"{x:.3e}"


def decade(exponent: int) -> str:
    """10 to `exponent`, as a label: 10⁻⁹."""
    return "10" + str(exponent).translate(SUPERSCRIPTS)


def span(values: Sequence[float]) -> tuple[int, int]:
    """Whole decades covering `values` with a margin, at least one wide."""
    low, high = math.floor(min(values) - 0.1), math.ceil(max(values) + 0.1)
    return (low, high) if high > low else (low - 1, high + 1)


def ticks(low: int, high: int) -> range:
    return range(low, high + 1, max(1, math.ceil((high - low) / MAX_TICKS)))


def error_plot(points: Sequence[tuple[int, float]]) -> str:
    """The SVG of the runs' (N, |error|), the 1/N bound drawn across the same N."""
    xs = [math.log10(n) for n, _ in points] or [3.0, 9.0]
    ys = [math.log10(max(abs(error), FLOOR)) for _, error in points]
    x0, x1 = span(xs)
    y0, y1 = span([*ys, -x0, -x1])  # the bound, 1/N, is the line y = -x
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (y1 - y) / (y1 - y0) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="system-ui, sans-serif" font-size="12" '
           f'role="img" aria-label="|error| against N, log-log, with the 1/N bound">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    for x in ticks(x0, x1):
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                   f'fill="{TEXT}">{decade(x)}</text>')
    for y in ticks(y0, y1):
        out.append(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end" '
                   f'fill="{TEXT}">{decade(y)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               f'stroke="{AXIS}"/>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
               f'fill="{TEXT}">N (terms)</text>')
    out.append(f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle" fill="{TEXT}">|estimate − π|</text>')
    out.append(f'<line class="bound" x1="{px(x0):.1f}" y1="{py(-x0):.1f}" x2="{px(x1):.1f}" '
               f'y2="{py(-x1):.1f}" stroke="{BOUND}" stroke-width="2" stroke-dasharray="6 4"/>')
    for (terms, error), x, y in zip(points, xs, ys, strict=False):
        out.append(f'<circle class="run" cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" '
                   f'fill="{POINT}" fill-opacity="0.75"><title>N = {terms:.4g}, '
                   f'|error| = {scientific(abs(error))}</title></circle>')
    if not points:
        out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
                   f'text-anchor="middle" fill="{AXIS}">no finished runs yet</text>')
    legend_x, legend_y = LEFT + plot_w - 150, TOP + 18
    out += [f'<rect x="{legend_x - 10}" y="{legend_y - 14}" width="154" height="44" '
            f'fill="#ffffff" fill-opacity="0.9" stroke="{GRID}"/>',
            f'<circle cx="{legend_x + 6}" cy="{legend_y - 4}" r="5" fill="{POINT}"/>',
            f'<text x="{legend_x + 20}" y="{legend_y}" fill="{TEXT}">runs ({len(points)})</text>',
            f'<line x1="{legend_x - 2}" y1="{legend_y + 16}" x2="{legend_x + 14}" '
            f'y2="{legend_y + 16}" stroke="{BOUND}" stroke-width="2" stroke-dasharray="6 4"/>',
            f'<text x="{legend_x + 20}" y="{legend_y + 20}" fill="{TEXT}">bound 1/N</text>',
            "</svg>"]
    return "\n".join(out)

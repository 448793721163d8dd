"""Charts, drawn once for the web page (SVG) and the PDF report (the same figure objects).

Every function builds a matplotlib ``Figure`` without pyplot (no global state, safe in threads).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, ever
import numpy as np  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from hairtrack.domain import Measurement, Treatment, Zone  # noqa: E402

__all__ = ["zone_chart", "width_histogram", "figure_svg", "figure_png", "PHASE_MONTHS"]

INK, MUTED, ACCENT, GOOD, BAD, BAND = "#1d2430", "#5b6575", "#1f6feb", "#1a7f37", "#cf222e", "#8c959f"
# Phase boundaries in months on treatment and their shading.
PHASE_MONTHS = ((0, 2, "months 1-2", "#f6f8fa"), (2, 4, "months 3-4", "#eef6ff"), (4, 6, "months 5-6", "#e6f4ea"))


def _add_months(day: dt.date, months: float) -> dt.date:
    return day + dt.timedelta(days=round(months * 30.4375))


def zone_chart(
    zone: Zone,
    measurements: Sequence[Measurement],
    treatments: Sequence[Treatment] = (),
    *,
    zone_verdict: dict[str, Any] | None = None,
    evaluated: dict[str, Any] | None = None,
    benchmark_pct: tuple[float, float] | None = None,
    width_in: float = 7.0,
    height_in: float = 3.2,
) -> Figure:
    """Density of one zone over time: each image, each visit's mean, the baseline band, the current
    estimate with its 95% interval, the benchmark band, treatment starts and sessions, phases shaded.

    ``zone_verdict`` and ``evaluated`` are the ``zones[zone]`` and ``evaluated_treatment`` objects of the
    verdict JSON (DESIGN 3.3); without them only the measurements are drawn.
    """
    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    rows = [m for m in measurements if m.zone == zone and m.hairs_per_cm2 is not None]
    start = dt.date.fromisoformat(evaluated["start"]) if evaluated and evaluated.get("start") else None
    if start is not None:
        for low, high, label, colour in PHASE_MONTHS:
            ax.axvspan(_add_months(start, low), _add_months(start, high), color=colour, zorder=0, lw=0)
            ax.text(_add_months(start, (low + high) / 2), 1.0, label, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=7, color=MUTED)
    if rows:
        dates = [m.date for m in rows]
        ax.scatter(dates, [m.hairs_per_cm2 for m in rows], s=10, color=BAND, alpha=0.8, label="each image", zorder=2)
        visits = sorted(set(dates))
        means = [float(np.mean([m.hairs_per_cm2 for m in rows if m.date == d])) for d in visits]
        ax.plot(visits, means, "-o", color=INK, ms=4, lw=1.2, label="visit mean", zorder=3)
    base = zone_verdict.get("baseline_hairs_per_cm2") if zone_verdict else None
    if base is not None and rows:
        mdc = zone_verdict.get("mdc95_pct") if zone_verdict else None
        half = base * (mdc or 0) / 100
        ax.axhspan(base - half, base + half, color=ACCENT, alpha=0.08, zorder=1)
        ax.axhline(base, color=ACCENT, lw=1, ls="--", label="baseline (band: smallest real change)", zorder=1)
        if benchmark_pct is not None:
            lo, hi = benchmark_pct
            ax.axhspan(base * (1 + lo / 100), base * (1 + hi / 100), color=GOOD, alpha=0.10, zorder=1, label="benchmark range")
        change = zone_verdict.get("change_hairs_per_cm2")
        ci = zone_verdict.get("change_hairs_per_cm2_ci95")
        if change is not None:
            last = max(m.date for m in rows)
            ax.errorbar([last], [base + change], yerr=[[change - ci[0]], [ci[1] - change]] if ci else None,
                        fmt="D", color=GOOD if (ci and ci[0] > 0) else BAD if (ci and ci[1] < 0) else MUTED,
                        ms=6, capsize=4, label="estimate now (95% interval)", zorder=4)
    for t in treatments:
        marker = "|" if t.treatment.is_session else None
        if marker:
            ax.axvline(t.date, color=MUTED, lw=0.8, ls=":", zorder=1)
        elif start is not None and t.date == start:
            ax.axvline(t.date, color=INK, lw=1.2, zorder=1)
    if start is not None:
        ax.axvline(start, color=INK, lw=1.4, zorder=1)
        ax.text(start, 0.02, f" {evaluated.get('treatment', '')} starts", transform=ax.get_xaxis_transform(), fontsize=7, color=INK)
    ax.set_title(zone.value.replace("_", " "), loc="left", fontsize=11, color=INK)
    ax.set_ylabel("hairs/cm²", fontsize=9)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#d9dee6", lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not rows:
        ax.text(0.5, 0.5, "no density scans of this zone yet", transform=ax.transAxes, ha="center", color=MUTED)
    else:
        ax.legend(fontsize=7, loc="lower left", frameon=False, ncols=2)
    return fig


def width_histogram(widths_um: Sequence[float], *, vellus_max_um: float = 30.0, terminal_min_um: float = 60.0) -> Figure:
    """Histogram of shaft widths with the vellus and terminal thresholds marked."""
    fig = Figure(figsize=(4.2, 2.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    values = np.asarray([w for w in widths_um if w is not None and np.isfinite(w)], dtype=float)
    if values.size:
        ax.hist(values, bins=np.arange(0, max(130.0, values.max() + 10), 5.0), color=ACCENT, alpha=0.8)
    ax.axvline(vellus_max_um, color=BAD, ls="--", lw=1)
    ax.axvline(terminal_min_um, color=GOOD, ls="--", lw=1)
    ax.text(vellus_max_um, 1, " vellus <", transform=ax.get_xaxis_transform(), va="top", ha="right", fontsize=7, color=BAD)
    ax.text(terminal_min_um, 1, " terminal ≥", transform=ax.get_xaxis_transform(), va="top", fontsize=7, color=GOOD)
    ax.set_xlabel("shaft width (µm)", fontsize=8)
    ax.set_ylabel("hairs", fontsize=8)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def figure_svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def figure_png(fig: Figure, *, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()

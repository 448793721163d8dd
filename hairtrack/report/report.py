"""Build the report from a profile's record: the verdict with its numbers, one chart per zone, the
benchmarks, the cost, the treatment and capture history, and the medical disclaimer.

The PDF is drawn with matplotlib from the same chart figures the web page shows as SVG.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import textwrap
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hairtrack import __version__
from hairtrack.analysis.stack import MEDICAL_DISCLAIMER
from hairtrack.report.charts import figure_svg
from hairtrack.report.format import FORMATTERS, fmt, money, pct, signed

__all__ = ["report_pdf", "report_html", "DISCLAIMER"]

DISCLAIMER = MEDICAL_DISCLAIMER  # one text for the report, the pages and the stack
A4 = (8.27, 11.69)


def _verdict_lines(record: Any) -> list[str]:
    v = record.verdict
    s = record.summary
    lines = [f"Profile: {s.name}    Scans: {s.scans} over {s.visits} visits ({s.first_scan or '-'} to {s.last_scan or '-'})"]
    if v is None:
        lines.append("No verdict: " + (record.verdict_error or "no scans yet."))
        return lines
    et = v["evaluated_treatment"]
    o = v["overall"]
    lines += [
        f"As of {v['as_of']}. Evaluated treatment: {et['treatment'] or 'none'}"
        + (f", started {et['start']}, {et['sessions']} sessions" if et["start"] else ""),
        f"Phase: {v['phase'].replace('_', ' ')}"
        + (f" ({v['months_on_treatment']:.1f} months on treatment)" if v.get("months_on_treatment") is not None else ""),
        f"Overall verdict: {o['verdict'].replace('_', ' ')}"
        + (f", change {signed(o['change_pct'])}% (95% interval {signed(o['change_pct_ci95'][0])} to {signed(o['change_pct_ci95'][1])})" if o.get("change_pct_ci95") else "")
        + ("  - it may not be working" if o.get("may_not_be_effective") else ""),
        "",
        "Per zone: baseline -> latest hairs/cm², change % [95% interval], P(increase), smallest detectable change",
    ]
    for zone, z in v["zones"].items():
        ci = z.get("change_pct_ci95")
        bench = z.get("benchmark") or {}
        lines.append(
            f"  {zone:10s} {fmt(z['baseline_hairs_per_cm2'], 0)} -> {fmt(z['latest_hairs_per_cm2'], 0)}   "
            f"{signed(z['change_pct'])}% [{signed(ci[0]) if ci else '-'}, {signed(ci[1]) if ci else '-'}]   "
            f"P={pct(z['probability_increase'])}   MDC {fmt(z['mdc95_pct'])}%   {z['verdict'].replace('_', ' ')}"
            + ("   (matched hairs)" if z.get("estimator") == "matched" else "")
            + (f"   benchmark {bench['name']}: {bench.get('standing') or 'too early'}" if bench else "")
        )
    cost = v.get("cost") or {}
    if cost.get("total"):
        lines += ["", f"Spent on {et['treatment']}: {cost['total']} {cost['currency']}"
                  + (f"; cost per percentage point gained: {cost['cost_per_pct_point']} {cost['currency']}" if cost.get("cost_per_pct_point") else "")]
        prp = cost.get("prp_benchmark") or {}
        if prp.get("course_cost") and prp["course_cost"][0]:
            lines.append(f"A typical PRP course costs {prp['course_cost'][0]}-{prp['course_cost'][1]} {prp['currency']}.")
    lines += ["", "What this means:"] + [f"- {m}" for m in v.get("messages", [])]
    if v.get("flags"):
        lines += ["", "Notes on the data:"] + [f"- [{f['code']}] {f['message']}" for f in v["flags"]]
    return lines


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    fig = Figure(figsize=A4)
    fig.text(0.07, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.91
    for line in lines:
        for part in textwrap.wrap(line, 100, subsequent_indent="    ") or [""]:
            fig.text(0.07, y, part, fontsize=8.5, va="top", family="DejaVu Sans")
            y -= 0.017
            if y < 0.1:
                fig.text(0.07, 0.05, textwrap.fill(DISCLAIMER, 120), fontsize=7, color="#5b6575", va="bottom")
                pdf.savefig(fig)
                fig = Figure(figsize=A4)
                y = 0.95
    fig.text(0.07, 0.05, textwrap.fill(DISCLAIMER, 120), fontsize=7, color="#5b6575", va="bottom")
    pdf.savefig(fig)


def _history_lines(record: Any) -> list[str]:
    lines = ["Treatments and sessions:"]
    lines += [f"  {t.date}  {t.treatment.value:18s} {('to ' + str(t.end_date)) if t.end_date else '':14s} {t.dose or '':28s} {money(t.cost):14s} {t.provider or ''}"
              for t in record.treatments] or ["  none recorded"]
    lines += ["", "Scans (date, zone, replicate, hairs/cm², time, hair length mm, device, lighting):"]
    lines += [f"  {m.date}  {m.zone.value:10s} {m.replicate}  {fmt(m.hairs_per_cm2, 1):>7s}  {m.capture_time.strftime('%H:%M') if m.capture_time else '-':5s}  "
              f"{fmt(m.hair_length_mm, 1):>5s}  {m.device or '-'}  {m.lighting or '-'}" for m in record.measurements]
    capture = getattr(record, "capture", None)
    if capture and capture.get("scans"):
        broken = [s for s in capture["scans"] if s.get("flags")]
        lines += ["", f"Capture conditions: {len(broken)} scans broke a rule of the protocol."]
        lines += [f"  {s['date']} {s['zone']} #{s['replicate']}: " + "; ".join(f["message"] for f in s["flags"]) for s in broken]
    return lines


def report_pdf(record: Any) -> bytes:
    """The report as PDF bytes (A4): summary and verdict, a chart per zone, the history."""
    from hairtrack.web.views import zone_figure

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"hairtrack report: {record.summary.name}", "Creator": f"hairtrack {__version__}"}) as pdf:
        _text_page(pdf, f"Hair density report: {record.summary.name}", [f"Made on {dt.date.today()} by hairtrack {__version__}.", ""] + _verdict_lines(record))
        zones = record.zones
        for start in range(0, len(zones), 3):
            page = Figure(figsize=A4)
            for i, zone in enumerate(zones[start : start + 3]):
                chart = zone_figure(record, zone)
                png = io.BytesIO()
                chart.savefig(png, format="png", dpi=160)
                png.seek(0)
                import matplotlib.image as mpimg

                ax = page.add_axes((0.05, 0.68 - i * 0.31, 0.9, 0.29))
                ax.imshow(mpimg.imread(png))
                ax.axis("off")
            page.text(0.05, 0.02, textwrap.fill(DISCLAIMER, 120), fontsize=7, color="#5b6575")
            pdf.savefig(page)
        _text_page(pdf, "History", _history_lines(record))
    return buffer.getvalue()


_ENV = Environment(loader=PackageLoader("hairtrack.report", "templates"), autoescape=select_autoescape(["html"]))
_ENV.globals.update(FORMATTERS)


def report_html(record: Any) -> str:
    """The report as one self-contained HTML page (charts inline as SVG images)."""
    from hairtrack.web.views import zone_figure

    charts = {z.value: base64.b64encode(figure_svg(zone_figure(record, z))).decode() for z in record.zones}
    return _ENV.get_template("report.html").render(
        record=record, charts=charts, lines=_verdict_lines(record), history=_history_lines(record),
        disclaimer=DISCLAIMER, today=dt.date.today(), version=__version__,
    )

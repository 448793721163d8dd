"""Saving measured photos as scans: one path for the command line and the web app.

Each new image is also registered to the previous scan of its zone (the same replicate number where
there is one), so that the record knows whether it shows the same patch of scalp: the overlap, the
hairs kept, lost and new in the common field, and ``different_field``. The capture checks use these
figures (a different patch is left out of the verdict; a small overlap counts for less). When the zone's
first visit is an earlier one, the image is registered to it as well (``registration_first``): the
verdict measures the change on the matched hairs (``analysis.matched``), and steps straight to the
first visit keep the error from piling up along a chain of monthly steps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hairtrack.domain import Measurement, Zone
from hairtrack.tracking.store import Store

__all__ = ["NewScan", "save_scans", "registration_figures", "matched_pairs"]


@dataclass(frozen=True)
class NewScan:
    """A measured photo ready to save: its name, the stored (metadata-free) bytes, the decoded pixels and
    the analyze object."""

    name: str
    stored_bytes: bytes
    rgb: np.ndarray
    result: dict[str, Any]


def _points(result: Mapping[str, Any]) -> np.ndarray:
    return np.array([(h["y_px"], h["x_px"]) for h in result.get("hairs", [])], dtype=float).reshape(-1, 2)


def _register(reference: tuple[Measurement, bytes, dict[str, Any]], scan: NewScan) -> dict[str, Any]:
    from hairtrack.imaging.io import load_image
    from hairtrack.imaging.register import compare, comparison_to_dict, match_tolerance_px

    ref_m, ref_bytes, ref_result = reference
    lengths = [h["length_px"] for h in (*ref_result.get("hairs", []), *scan.result.get("hairs", [])) if h.get("length_px")]
    ref_rgb = load_image(ref_bytes).rgb
    found = comparison_to_dict(compare(ref_rgb, scan.rgb, _points(ref_result), _points(scan.result),
                                       tol_px=match_tolerance_px(ref_rgb.shape, lengths)))
    return {
        "reference": {"date": ref_m.date.isoformat(), "zone": ref_m.zone.value, "replicate": ref_m.replicate},
        "overlap_pct": found["overlap_pct"], "different_field": "different_field" in found["flags"],
        "flags": found["flags"], "kept": len(found["kept"]), "lost": len(found["lost"]), "new": len(found["new"]),
        "change_pct": found.get("change_pct"), "transform": found["transform"],
    }


def save_scans(
    store: Store,
    template: Measurement,
    scans: Sequence[NewScan],
    *,
    register: bool = True,
) -> list[Measurement]:
    """Save measured photos of one zone at one visit as replicates (numbered after those already there).

    ``template`` carries the profile, date, zone and capture conditions; each scan's figures come from its
    analyze object. With ``register``, each image is compared with the zone's previous scan that has an
    image, and the result is kept in the scan's analysis under ``registration``.
    """
    previous = first = None
    if register:
        earlier = [(m, sha) for m, sha in store.scan_images(template.profile) if m.zone == template.zone and m.date < template.date]
        if earlier:
            def visit(day):
                return sorted([(m, sha) for m, sha in earlier if m.date == day], key=lambda x: x[0].replicate)
            previous = visit(max(m.date for m, _ in earlier))
            first_day = min(m.date for m, _ in earlier)
            first = visit(first_day) if first_day != previous[0][0].date else None
    items = []
    analyses = store.scan_analyses(template.profile) if previous else {}
    for i, scan in enumerate(scans):
        analysis = dict(scan.result)
        for key, refs in (("registration", previous), ("registration_first", first)):
            if not refs:
                continue
            ref_m, sha = refs[min(i, len(refs) - 1)]
            ref_result = analyses.get((ref_m.date, ref_m.zone, ref_m.replicate)) or {}
            try:
                analysis[key] = _register((ref_m, store.images.read(sha), ref_result), scan)
            except Exception as exc:  # registration is a check on the photo, never a reason to lose it
                analysis[key] = {"error": str(exc)}
        r = scan.result
        items.append((
            replace(template, replicate=1, hairs_per_cm2=r["hairs_per_cm2"], fu_per_cm2=r.get("fu_per_cm2"),
                    hairs_per_fu=r.get("hairs_per_fu"), mean_width_um=r.get("mean_width_um"),
                    terminal_fraction=r.get("terminal_fraction"), coverage_pct=r.get("coverage_pct"), image=scan.name),
            scan.stored_bytes, analysis,
        ))
    saved = store.add_scans(items)  # one transaction: all the photos of the visit, or none
    return saved


def registration_figures(analyses: Mapping[tuple[dt.date, Zone, int], Mapping[str, Any]]) -> dict[tuple[dt.date, Zone, int], Any]:
    """Per-scan figures for :func:`hairtrack.analysis.protocol.check_protocol` from stored analyses."""
    from hairtrack.analysis.protocol import ScanFigures

    figures = {}
    for key, analysis in analyses.items():
        reg = analysis.get("registration") or {}
        if "overlap_pct" in reg or analysis.get("px_per_mm") or analysis.get("method"):
            figures[key] = ScanFigures(
                px_per_mm=analysis.get("px_per_mm"),
                overlap_pct=reg.get("overlap_pct"),
                different_field=reg.get("different_field"),
                method=analysis.get("method") if isinstance(analysis.get("method"), str) else None,
            )
    return figures


def matched_pairs(analyses: Mapping[tuple[dt.date, Zone, int], Mapping[str, Any]]) -> list[Any]:
    """The hairs matched between each stored image and its reference scan, for ``judge(..., matched=...)``.

    Scans without a registration (imported rows, the first visit of a zone), whose registration failed,
    or whose stored figures are not readable (a damaged or hand-edited record) give nothing: the verdict
    then uses independent counts for them instead of failing.
    """
    from hairtrack.analysis.matched import MatchedPair

    out = []
    for (date, zone, replicate), analysis in analyses.items():
        for key in ("registration", "registration_first"):
            reg = analysis.get(key) or {}
            ref = reg.get("reference") or {}
            try:
                ref_date = dt.date.fromisoformat(ref["date"])
            except (KeyError, TypeError, ValueError):
                continue
            counts = [reg.get(k) for k in ("kept", "lost", "new")]
            if reg.get("different_field"):
                counts = [0, 0, 0]  # a different patch: no counts, kept out by matched_steps
            elif not all(isinstance(c, int) and c >= 0 for c in counts):
                continue
            overlap = reg.get("overlap_pct")
            out.append(MatchedPair(Zone(zone), date, replicate, ref_date, *counts,
                                   float(overlap) if isinstance(overlap, (int, float)) else None,
                                   bool(reg.get("different_field"))))
    return out

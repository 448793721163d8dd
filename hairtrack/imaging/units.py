"""Follicular units: hairs that leave the skin through one opening, grouped by their exit point.

Two hairs belong to one unit when an end of each lies within ``max_gap_um`` (default 150 um, about the
diameter of a follicular opening plus a shaft; Rakowska et al. 2009 describe units of 1-4 hairs sharing one
opening) of an end of the other and both shafts leave that point on the same side, within ``max_splay_deg``
of each other: hairs of one opening fan out from it, while two hairs of different openings whose tips happen
to meet come to it from far apart (a review found one unit in ten of ideal hairs mixed that way). A hair leaves
one opening, so it joins others through one end only: the end whose nearest partner is closer (hairs lying
the same way also meet tip to tip, and at a normal scalp's density such links chained units together). The
units are the connected groups (single linkage). A unit's exit point is the mean of the ends that group it; a hair
alone gives its middle, since nothing in a photo of a single shaft says which end leaves the skin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hairtrack.imaging.density import CountingWindow, counting_window
from hairtrack.imaging.hairs import Hair, check_px_per_mm

__all__ = ["FollicularUnit", "group_units", "hairs_per_whole_unit"]


@dataclass(frozen=True, slots=True)
class FollicularUnit:
    """A group of hairs sharing an exit point at (``row_px``, ``col_px``); ``members`` index the hairs."""

    row_px: float
    col_px: float
    hairs: int
    members: tuple[int, ...]


def group_units(hairs: tuple[Hair, ...] | list[Hair], *, px_per_mm: float | None = None,
                max_gap_um: float = 150.0, max_gap_px: float | None = None,
                max_splay_deg: float = 60.0) -> tuple[FollicularUnit, ...]:
    """Group hairs into follicular units by their ends.

    Parameters
    ----------
    hairs : sequence of Hair
        From :func:`hairtrack.imaging.hairs.detect_hairs`.
    px_per_mm : float, optional
        Scale, to turn ``max_gap_um`` into pixels.
    max_gap_um : float
        Ends closer than this belong to one opening.
    max_gap_px : float, optional
        The same in pixels; used when given, and when there is no scale (default then: 2.5 times the
        median shaft width).
    max_splay_deg : float
        Two shafts meeting at an end belong together only when they leave it within this angle of each other.

    Returns
    -------
    tuple of FollicularUnit
        Sorted by row, then column. Every hair is in exactly one unit.

    Examples
    --------
    >>> from hairtrack.imaging.hairs import Hair
    >>> v = [Hair(50, 60, 4, 80, 0, (50, 20), (50, 100), 0.6), Hair(40, 60, 4, 80, 15, (50, 20), (30, 98), 0.6),
    ...      Hair(150, 60, 4, 80, 0, (150, 20), (150, 100), 0.6)]
    >>> [u.hairs for u in group_units(v, max_gap_px=10)]
    [2, 1]
    >>> tips = [Hair(50, 60, 4, 80, 0, (50, 20), (50, 100), 0.6), Hair(50, 140, 4, 80, 0, (50, 180), (50, 101), 0.6)]
    >>> [u.hairs for u in group_units(tips, max_gap_px=10)]  # end to end from opposite sides: two units
    [1, 1]
    >>> two = [Hair(100, 200, 8, 200, 0, (100, 100), (100, 300), 0.6), Hair(115, 195, 8, 193, 9, (100, 100), (130, 290), 0.6),
    ...        Hair(78, 212, 8, 186, 11, (60, 120), (95, 305), 0.6), Hair(65, 220, 8, 200, 3, (60, 120), (70, 320), 0.6)]
    >>> [u.hairs for u in group_units(two, max_gap_px=10)]  # two units of two whose tips meet: not one of four
    [2, 2]
    """
    hairs = list(hairs)
    ppm = check_px_per_mm(px_per_mm)
    if not hairs:
        return ()
    if max_gap_px is None:
        if ppm is not None:
            max_gap_px = max_gap_um / 1000.0 * ppm
        else:
            max_gap_px = 2.5 * float(np.median([hr.width_px for hr in hairs]))
    ends = np.array([[hr.end_a, hr.end_b] for hr in hairs], float)  # (n, 2 ends, 2)
    n = len(hairs)
    flat = ends.reshape(-1, 2)
    owner = np.repeat(np.arange(n), 2)
    # the shaft's direction leaving each end (towards the hair's other end)
    away = (ends[:, ::-1] - ends).reshape(-1, 2)
    away /= np.maximum(np.hypot(away[:, 0], away[:, 1]), 1e-9)[:, None]
    # close pairs of ends from a k-d tree: a full distance matrix of 2,000 hairs took half a gigabyte
    pairs = cKDTree(flat).query_pairs(max_gap_px, output_type="ndarray") if n > 1 else np.empty((0, 2), int)
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    keep = (owner[i] != owner[j]) & ((away[i] * away[j]).sum(axis=1) >= np.cos(np.radians(max_splay_deg)))
    i, j = i[keep], j[keep]
    # A unit shares one opening, so a hair joins others through one end only. Hairs lying the same way also
    # meet tip to tip, and a link there chains two units into one (ideal hairs at 90 units/cm² gave "units" of
    # 5-12): where a hair links through both ends, only its closer end's links stand, the tighter meeting
    # being the likelier opening.
    if len(i):
        gap = np.hypot(*(flat[i] - flat[j]).T)
        nearest = np.full(len(flat), np.inf)
        np.minimum.at(nearest, i, gap)
        np.minimum.at(nearest, j, gap)
        other = np.arange(len(flat)) ^ 1  # the same hair's other end
        dropped = np.isfinite(nearest) & (nearest > nearest[other])
        dropped |= np.isfinite(nearest) & (nearest == nearest[other]) & (np.arange(len(flat)) % 2 == 1)
        stand = ~dropped[i] & ~dropped[j]
        i, j = i[stand], j[stand]
    graph = coo_matrix((np.ones(len(i)), (owner[i], owner[j])), shape=(n, n))
    n_comp, labels = connected_components(graph, directed=False)
    grouping = np.zeros(len(flat), bool)
    grouping[i] = grouping[j] = True
    units = []
    for c in range(n_comp):
        members = tuple(int(k) for k in np.nonzero(labels == c)[0])
        if len(members) == 1:
            hr = hairs[members[0]]
            point = np.array([hr.row_px, hr.col_px], float)
        else:
            idx = [e for e in np.nonzero(grouping)[0] if labels[owner[e]] == c]
            point = flat[idx].mean(axis=0)
        units.append(FollicularUnit(row_px=float(point[0]), col_px=float(point[1]), hairs=len(members),
                                    members=members))
    units.sort(key=lambda u: (u.row_px, u.col_px))
    return tuple(units)


def hairs_per_whole_unit(hairs: tuple[Hair, ...] | list[Hair], units: tuple[FollicularUnit, ...],
                         usable: np.ndarray | CountingWindow) -> float | None:
    """Hairs per follicular unit, from the units the field shows whole.

    The frame cuts units as it cuts hairs, and a cut unit shows fewer of its hairs, so the plain ratio over
    every unit on show reads low (and units/cm² high: benchmarks/synthetic.py's density table checks both on
    the renderer's exact hairs). Each
    unit lying wholly inside ``usable`` (the ends of all its hairs) is weighted as the edge correction weighs
    it (:mod:`hairtrack.imaging.density`: a large unit is cut more often, so it stands for more).

    Parameters
    ----------
    hairs, units : sequence of Hair, tuple of FollicularUnit
        From the detector and :func:`group_units`.
    usable : ndarray of bool, or CountingWindow
        The usable field, or its counting window already made for the hairs' density
        (:func:`hairtrack.imaging.density.counting_window`).

    Returns
    -------
    float or None
        The weighted mean of the whole units' hair counts; ``None`` when no unit lies whole.

    Examples
    --------
    >>> field = np.ones((200, 300), bool)
    >>> v = [Hair(100, 60, 4, 80, 0, (100, 20), (100, 100), 0.6), Hair(90, 60, 4, 80, 15, (100, 20), (80, 98), 0.6),
    ...      Hair(100, 280, 4, 80, 0, (100, 250), (100, 330), 0.6)]  # a whole unit of two; one hair cut
    >>> hairs_per_whole_unit(v, group_units(v, max_gap_px=10), field)
    2.0
    """
    shapes = [np.array([e for m in u.members for e in (hairs[m].end_a, hairs[m].end_b)]) for u in units]
    window = usable if isinstance(usable, CountingWindow) else counting_window(usable)
    per_unit, per_hair = window.densities(
        [shapes, [shape for u, shape in zip(units, shapes, strict=True) for _ in range(u.hairs)]])
    return per_hair.per_px2 / per_unit.per_px2 if per_unit.whole else None

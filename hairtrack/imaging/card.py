"""The printable calibration card: render it, write it as a PDF at exact size, and read it back from a photo.

The card carries four ArUco fiducials [1]_ of known size at its corners, a strip of small markers for
macro photos, a millimetre scale and a neutral grey patch. A photo with the card in view gets from it
its scale (px/mm, with an uncertainty), the card plane's homography (perspective) and white-balance
gains from the grey patch. A card that is cut off, bent, stretched or too small is reported by name.

Coordinates on the card are millimetres ``(x, y)`` from its top-left corner, x to the right, y down;
the homography maps ``(x_mm, y_mm, 1)`` to ``(x_px, y_px, 1)`` = ``(col, row, 1)`` of the photo.

What the card cannot tell: a print scaled *uniformly* (a printer's "fit to page") scales the markers,
their spacing and the millimetre scale alike, so no photo of the card alone can detect it. The card says
so in print ("the bar must measure 50 mm": check it once with a ruler), and :func:`detect_card` takes an
``expected_px_per_mm`` (a contact dermoscope's fixed scale) to compare against.

References
----------
.. [1] Garrido-Jurado, S., Munoz-Salinas, R., Madrid-Cuevas, F. J., & Marin-Jimenez, M. J. (2014).
       Automatic generation and detection of highly reliable fiducial markers under occlusion.
       Pattern Recognition 47(6), 2280-2292.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from hairtrack.errors import InputError

__all__ = ["CardLayout", "CardProblem", "CardReading", "render_card", "default_layout", "card_pdf", "detect_card"]

DICTIONARY = "DICT_4X4_50"
CORNER_IDS = (0, 1, 2, 3)          # top-left, top-right, bottom-right, bottom-left
MICRO_ID_START = 10
MASTER_DPI = 1200.0                 # the card is drawn at this resolution, then resampled (render_card)
PRINT_DPI = (600.0, 1200.0, 2400.0)  # where its markers' edges lie on whole pixels
GREY_SRGB = 128                     # neutral grey, ~21.6% linear reflectance when printed faithfully
SCALE_BAR_MM = 50.0


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Where everything is on the card, in millimetres as drawn (the same at every ``dpi``: :func:`render_card`).

    ``markers`` maps an ArUco id to its four corners ``((x, y), ...)`` in ArUco's order (top-left,
    top-right, bottom-right, bottom-left). ``grey_patch_mm`` and ``scale_bar_mm`` are
    ``(x0, y0, x1, y1)`` rectangles.
    """

    width_mm: float
    height_mm: float
    dpi: float
    px_per_mm: float
    dictionary: str
    markers: dict[int, tuple[tuple[float, float], ...]]
    corner_marker_mm: float
    micro_marker_mm: float
    grey_patch_mm: tuple[float, float, float, float]
    scale_bar_mm: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class CardProblem:
    """A named problem with a card reading: ``code`` is one of ``not_found``, ``cut_off``, ``bent``,
    ``wrong_scale``, ``too_small``; ``message`` says it plainly."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CardReading:
    """What a photo's calibration card says.

    Attributes
    ----------
    found : bool
        At least one of the card's markers was read.
    px_per_mm, px_per_mm_sd : float or None
        Photo scale on the card plane at the centre of the markers found, and its standard uncertainty.
    homography : tuple or None
        3x3, card millimetres ``(x, y, 1)`` to photo pixels ``(col, row, 1)``.
    marker_ids : tuple of int
        Markers read.
    reprojection_rms_px : float or None
        RMS distance between read marker corners and the fitted plane's prediction.
    grey_rgb : tuple of float or None
        Mean sRGB (0-255) of the grey patch in the photo.
    white_balance_gains : tuple of float or None
        ``(r, g, b)`` gains (g = 1) that make the grey patch neutral, to multiply *linear* RGB by.
    exposure_ratio : float or None
        Grey patch's linear luminance over its printed design value (1 = as designed).
    problems : tuple of CardProblem
        Empty when the reading can be trusted.
    mirrored : bool
        The card was read from the photo's mirror image: the photo is mirrored (a front camera saves it so) or
        the card was printed mirrored. The scale holds either way; the homography maps the card as it lies in
        the photo (a negative determinant).
    """

    found: bool
    px_per_mm: float | None
    px_per_mm_sd: float | None
    homography: tuple[tuple[float, float, float], ...] | None
    marker_ids: tuple[int, ...]
    reprojection_rms_px: float | None
    grey_rgb: tuple[float, float, float] | None
    white_balance_gains: tuple[float, float, float] | None
    exposure_ratio: float | None
    problems: tuple[CardProblem, ...]
    mirrored: bool = False

    @property
    def ok(self) -> bool:
        """True when the card was read and no problem was found."""
        return self.found and not self.problems


def _dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY))


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    # IEC 61966-2-1 sRGB transfer function
    v = np.asarray(v, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def render_card(
    *, dpi: float = 600.0, width_mm: float = 85.6, height_mm: float = 54.0,
    corner_marker_mm: float = 10.0, micro_marker_mm: float = 2.5,
) -> tuple[np.ndarray, CardLayout]:
    """Render the calibration card at print resolution.

    The card is drawn once at ``MASTER_DPI`` (its markers on even pixels there) and resampled to ``dpi``, so
    that its geometry in millimetres, the ``CardLayout``, is the same at every resolution. (Drawn on each
    resolution's own pixels, the small markers were 2.54 mm at 300 dpi and 2.50 at 600, and a close-up of a
    card printed at 600 dpi, read against the other, gave a scale 1% low.) The markers' edges fall on whole
    pixels at ``PRINT_DPI`` (600, 1200, 2400), the resolutions :func:`card_pdf` prints at; elsewhere they are
    averaged into grey edge pixels.

    Parameters
    ----------
    dpi : float
        Print resolution; 150-2400.
    width_mm, height_mm : float
        Card size (default: a bank card, 85.6 x 54 mm).
    corner_marker_mm, micro_marker_mm : float
        Side of the four corner markers and of the small markers for macro photos.

    Returns
    -------
    rgb : ndarray, uint8, (rows, cols, 3)
    layout : CardLayout

    Examples
    --------
    >>> rgb, layout = render_card(dpi=300)
    >>> rgb.shape, round(layout.px_per_mm, 3), sorted(layout.markers)[:4]
    ((638, 1011, 3), 11.811, [0, 1, 2, 3])
    >>> render_card(dpi=300)[1].markers == render_card(dpi=600)[1].markers  # one geometry
    True
    """
    if not (isinstance(dpi, (int, float)) and math.isfinite(dpi) and 150 <= dpi <= 2400):
        raise InputError(f"dpi must be a number within 150-2400, got {dpi!r}")
    master, layout = _master(float(width_mm), float(height_mm), float(corner_marker_mm), float(micro_marker_mm))
    f = float(dpi) / MASTER_DPI
    if f == 1.0:
        rgb = master.copy()
    else:  # averaged down (its edges a sub-pixel grey), or each master pixel repeated
        rgb = cv2.resize(master, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_NEAREST)
    return rgb, replace(layout, dpi=float(dpi), px_per_mm=float(dpi) / 25.4, markers=dict(layout.markers))


@functools.lru_cache(maxsize=4)
def _master(width_mm: float, height_mm: float, corner_marker_mm: float,
            micro_marker_mm: float) -> tuple[np.ndarray, CardLayout]:
    # the markers on even master pixels: whole pixels at 600 dpi as well, and the very geometry the card had
    # when it was drawn at 600 dpi itself (cards printed then read as before)
    rgb, layout = _render_exact(dpi=MASTER_DPI, width_mm=width_mm, height_mm=height_mm,
                                corner_marker_mm=corner_marker_mm, micro_marker_mm=micro_marker_mm, grid_px=2)
    rgb.setflags(write=False)  # shared by every call: each gets a copy or a resampled image
    return rgb, layout


def _render_exact(
    *, dpi: float = 600.0, width_mm: float = 85.6, height_mm: float = 54.0,
    corner_marker_mm: float = 10.0, micro_marker_mm: float = 2.5, grid_px: int = 1,
) -> tuple[np.ndarray, CardLayout]:
    """The card drawn on the pixels of ``dpi`` (every mark rounded to them, the markers to multiples of
    ``grid_px``): :func:`render_card`'s master. The other parameters and the result are :func:`render_card`'s."""
    for name, v, lo, hi in (("dpi", dpi, 150, 2400), ("width_mm", width_mm, 60, 200), ("height_mm", height_mm, 40, 200),
                            ("corner_marker_mm", corner_marker_mm, 5, 20), ("micro_marker_mm", micro_marker_mm, 1.5, 5)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
            raise InputError(f"{name} must be a number within {lo}-{hi}, got {v!r}")
    ppmm = dpi / 25.4
    rows, cols = int(round(height_mm * ppmm)), int(round(width_mm * ppmm))
    img = np.full((rows, cols), 255, dtype=np.uint8)
    rgb = np.full((rows, cols, 3), 255, dtype=np.uint8)
    d = _dictionary()
    markers: dict[int, tuple[tuple[float, float], ...]] = {}

    def on_grid(v_px: float) -> int:  # markers on whole multiples of grid_px, so they stay whole pixels at
        return grid_px * int(round(v_px / grid_px))  # dpi / grid_px too

    def put(marker_id: int, x_mm: float, y_mm: float, side_mm: float) -> None:
        side = on_grid(side_mm * ppmm)
        c0, r0 = on_grid(x_mm * ppmm), on_grid(y_mm * ppmm)
        img[r0:r0 + side, c0:c0 + side] = cv2.aruco.generateImageMarker(d, marker_id, side, borderBits=1)
        x0, y0, s = c0 / ppmm, r0 / ppmm, side / ppmm
        markers[marker_id] = ((x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s))

    m = 3.0   # quiet zone to the card's edge
    big = corner_marker_mm
    for mid, (x, y) in zip(CORNER_IDS, [(m, m), (width_mm - m - big, m),
                                        (width_mm - m - big, height_mm - m - big), (m, height_mm - m - big)]):
        put(mid, x, y, big)
    # small markers between the top corner markers, each with a one-marker quiet zone
    step = 2.0 * micro_marker_mm
    x = m + big + micro_marker_mm
    mid = MICRO_ID_START
    while x + micro_marker_mm <= width_mm - m - big - micro_marker_mm + 1e-9 and mid < 50:
        put(mid, x, m + (big - micro_marker_mm) / 2, micro_marker_mm)
        x += step
        mid += 1
    rgb[:] = img[..., None]
    # grey patch in the middle
    gw, gh = 24.0, 14.0
    gx0, gy0 = width_mm / 2 - gw / 2, m + big + 5.0
    rgb[int(round(gy0 * ppmm)):int(round((gy0 + gh) * ppmm)), int(round(gx0 * ppmm)):int(round((gx0 + gw) * ppmm))] = GREY_SRGB
    grey = (round(gx0 * ppmm) / ppmm, round(gy0 * ppmm) / ppmm,
            round((gx0 + gw) * ppmm) / ppmm, round((gy0 + gh) * ppmm) / ppmm)
    # millimetre scale: 50 mm bar between the bottom markers, ticks every mm, longer every 5 and 10
    bx0 = width_mm / 2 - SCALE_BAR_MM / 2
    by = height_mm - m - 2.0
    line_px = max(1, int(round(0.15 * ppmm)))
    for k in range(int(SCALE_BAR_MM) + 1):
        tick = 3.0 if k % 10 == 0 else (2.0 if k % 5 == 0 else 1.2)
        xc = int(round((bx0 + k) * ppmm))
        cv2.line(rgb, (xc, int(round(by * ppmm))), (xc, int(round((by - tick) * ppmm))), (0, 0, 0), line_px)
    cv2.line(rgb, (int(round(bx0 * ppmm)), int(round(by * ppmm))),
             (int(round((bx0 + SCALE_BAR_MM) * ppmm)), int(round(by * ppmm))), (0, 0, 0), line_px)
    font_scale = 0.09 * ppmm / 2.0
    for text, ty in (("hairtrack calibration card - print at 100% (actual size)", gy0 + gh + 4.5),
                     ("the bar below must measure exactly 50 mm", gy0 + gh + 8.0)):
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(1, line_px // 2))
        cv2.putText(rgb, text, (int(cols / 2 - tw / 2), int(round(ty * ppmm))), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (60, 60, 60), max(1, line_px // 2), cv2.LINE_AA)
    layout = CardLayout(
        width_mm=cols / ppmm, height_mm=rows / ppmm, dpi=float(dpi), px_per_mm=ppmm, dictionary=DICTIONARY,
        markers=markers, corner_marker_mm=on_grid(big * ppmm) / ppmm,
        micro_marker_mm=on_grid(micro_marker_mm * ppmm) / ppmm, grey_patch_mm=grey,
        scale_bar_mm=(bx0, by - 3.0, bx0 + SCALE_BAR_MM, by),
    )
    return rgb, layout


@functools.lru_cache(maxsize=1)
def default_layout() -> CardLayout:
    """The default card's layout (one geometry at every print resolution), drawn once: what a photo is read
    against when no layout is given."""
    return render_card()[1]


def card_pdf(path: str | Path, *, dpi: float = 600.0) -> CardLayout:
    """Write the card as a one-page PDF whose page is exactly the card's physical size, at one of ``PRINT_DPI``.

    Print it at 100% ("actual size"), then check the 50 mm bar with a ruler once.
    """
    if dpi not in PRINT_DPI:
        raise InputError(f"the card prints at {', '.join(str(int(d)) for d in PRINT_DPI)} dpi (its markers on "
                         f"whole pixels), not {dpi:g}")
    rgb, layout = render_card(dpi=dpi)
    Image.fromarray(rgb).save(Path(path), "PDF", resolution=float(dpi))
    return layout


def _local_scale(h: np.ndarray, x: float, y: float) -> tuple[float, np.ndarray]:
    """sqrt(|det J|) and the Jacobian J of the homography at card point (x, y)."""
    p = h @ np.array([x, y, 1.0])
    w = p[2]
    j = (h[:2, :2] * w - np.outer(p[:2], h[2, :2])) / (w * w)
    return math.sqrt(abs(np.linalg.det(j))), j


def _detector_params() -> cv2.aruco.DetectorParameters:
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return params


@functools.lru_cache(maxsize=1)
def _mirrored_dictionary() -> cv2.aruco.Dictionary:
    """The card's dictionary with every code mirrored left to right (the same ids): what its markers read as in a
    mirror image."""
    d = _dictionary()
    codes = d.bytesList
    mirrored = [cv2.aruco.Dictionary.getByteListFromBits(np.ascontiguousarray(
        cv2.aruco.Dictionary.getBitsFromByteList(codes[i:i + 1], d.markerSize)[:, ::-1])) for i in range(len(codes))]
    return cv2.aruco.Dictionary(np.concatenate(mirrored), d.markerSize, d.maxCorrectionBits)


def _markers(corners, ids) -> tuple[list[np.ndarray], list[int]]:
    if ids is None:
        return [], []
    return [c.reshape(4, 2).astype(np.float64) for c in corners], [int(i) for i in np.asarray(ids).ravel()]


def _detect(gray: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
    corners, ids, _ = cv2.aruco.ArucoDetector(_dictionary(), _detector_params()).detectMarkers(gray)
    return _markers(corners, ids)


def _detect_with_mirrored_ids(gray: np.ndarray) -> tuple[list[np.ndarray], list[int], list[int] | None]:
    """:func:`_detect`, and the ids of the markers that read as mirrored codes in the same pass (OpenCV's
    detector with two dictionaries: the candidates are found once). None where this OpenCV has no such detector.

    The card's markers are :func:`_detect`'s to the bit. The mirrored ones tell whether the mirror image is worth
    reading: on 166 photos (60 renders of a card, 23 dev photos, each straight and mirrored) they were the ids
    that a pass over the mirror image found, in all 81 readings that found any (twenty-eighth session).
    """
    detector = cv2.aruco.ArucoDetector
    if not hasattr(detector, "detectMarkersMultiDict"):  # OpenCV before 4.12: no hint, read the mirror image
        return (*_detect(gray), None)
    corners, ids, _, which = detector([_dictionary(), _mirrored_dictionary()], _detector_params()) \
        .detectMarkersMultiDict(gray)
    found, found_ids = _markers(corners, ids)
    which = [int(k) for k in np.asarray(which).ravel()] if ids is not None else []
    straight = [(c, i) for c, i, k in zip(found, found_ids, which) if k == 0]
    return [c for c, _ in straight], [i for _, i in straight], [i for i, k in zip(found_ids, which) if k == 1]


def detect_card(
    rgb: np.ndarray,
    *,
    layout: CardLayout | None = None,
    expected_px_per_mm: float | None = None,
    min_marker_px: float = 24.0,
    bent_tolerance: float = 0.02,
    scale_tolerance: float = 0.04,
) -> CardReading:
    """Read the calibration card in a photo: scale, perspective, white balance and named problems.

    Parameters
    ----------
    rgb : ndarray
        The photo, RGB uint8 ``(rows, cols, 3)``.
    layout : CardLayout, optional
        The card's layout; default, that of the default card (:func:`default_layout`).
    expected_px_per_mm : float, optional
        A known scale (a contact dermoscope's); a reading off by more than 5% is ``wrong_scale``.
    min_marker_px : float
        Markers smaller than this on average make the reading ``too_small``.
    bent_tolerance : float
        Marker corners further from one plane than this share of a marker's side mean ``bent``.
    scale_tolerance : float
        Markers whose size or aspect disagrees with the layout by more than this share mean ``wrong_scale``.

    Returns
    -------
    CardReading

    Examples
    --------
    >>> card, _ = render_card(dpi=300)
    >>> photo = cv2.resize(card, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    >>> reading = detect_card(photo)
    >>> round(reading.px_per_mm, 1), reading.problems
    (5.9, ())
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] < 3 or arr.dtype != np.uint8:
        raise InputError(f"rgb must be a uint8 (rows, cols, 3) image, got {arr.dtype} {arr.shape}")
    if expected_px_per_mm is not None and not (math.isfinite(expected_px_per_mm) and expected_px_per_mm > 0):
        raise InputError(f"expected_px_per_mm must be a finite number > 0, got {expected_px_per_mm!r}")
    layout = layout or default_layout()
    arr = np.ascontiguousarray(arr[..., :3])
    gray = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    rows, cols = gray.shape
    corners, ids, mirrored_ids = _detect_with_mirrored_ids(gray)
    keep = [(c, i) for c, i in zip(corners, ids) if i in layout.markers]
    mirrored = False
    if len(keep) < 2 and (mirrored_ids is None or any(i in layout.markers for i in mirrored_ids)):
        # A mirrored card (a front camera's photo, a card printed mirrored) shows no marker, or one: a mirrored
        # code can read as a code of the card (the default card's marker 17 reads as itself in a mirror),
        # and a plane fitted to one wrong marker put a mask over most of the photo. Read the mirror image and
        # take the corners back to the photo's columns; a real reading of at least two markers wins. The mirror
        # image is read only where the photo shows a mirrored code of the card: most photos show no card, and
        # the second pass doubled the search's 20 ms. (The mirror image's own reading still gives the corners: read
        # in the photo with the mirrored codes, 5 of those 81 readings had a corner 0.09-3 px from it.)
        m_corners, m_ids = _detect(np.ascontiguousarray(gray[:, ::-1]))
        m_keep = [(c * [-1.0, 1.0] + [cols - 1.0, 0.0], i) for c, i in zip(m_corners, m_ids) if i in layout.markers]
        if len(m_keep) >= 2 and len(m_keep) > len(keep):
            keep, mirrored = m_keep, True
    if not keep:
        return CardReading(False, None, None, None, (), None, None, None, None,
                           (CardProblem("not_found", "no calibration card was found in the photo"),))
    keep.sort(key=lambda ci: ci[1])
    ids_found = tuple(i for _, i in keep)
    mm = np.array([p for _, i in keep for p in layout.markers[i]], dtype=np.float64)
    px = np.array([p for c, _ in keep for p in c], dtype=np.float64)
    h, _ = cv2.findHomography(mm, px, 0)
    problems: list[CardProblem] = []
    proj = cv2.perspectiveTransform(mm[None], h)[0]
    rms = float(np.sqrt(np.mean(np.sum((proj - px) ** 2, axis=1))))
    sides = np.array([np.mean(np.linalg.norm(c - np.roll(c, 1, axis=0), axis=1)) for c, _ in keep])
    # scale at the centre of the markers found
    cx, cy = mm.mean(axis=0)
    ppmm, jac = _local_scale(h, cx, cy)
    # uncertainty: leave-one-marker-out spread (jackknife) when >= 3 markers, with a floor from
    # corner localisation (~0.3 px per corner over the markers' mean side)
    floor = ppmm * 0.3 / (float(sides.mean()) * math.sqrt(len(px)))
    jk: list[float] = []
    if len(keep) >= 3:
        for k in range(len(keep)):
            sel = np.ones(len(px), dtype=bool)
            sel[4 * k:4 * k + 4] = False
            hk, _ = cv2.findHomography(mm[sel], px[sel], 0)
            if hk is not None:
                jk.append(_local_scale(hk, cx, cy)[0])
    n = len(jk)
    jk_sd = math.sqrt((n - 1) / n * float(np.sum((np.array(jk) - np.mean(jk)) ** 2))) if n >= 3 else 0.0
    sd = max(floor, jk_sd)

    corner_found = [i for i in ids_found if i in CORNER_IDS]
    micro_found = [i for i in ids_found if i not in CORNER_IDS]
    missing_outside = []
    for i in CORNER_IDS:
        if i in layout.markers and i not in ids_found:
            q = cv2.perspectiveTransform(np.array([layout.markers[i]], dtype=np.float64), h)[0]
            if np.any((q[:, 0] < 0) | (q[:, 0] >= cols) | (q[:, 1] < 0) | (q[:, 1] >= rows)):
                missing_outside.append(i)
    macro = not corner_found and len(micro_found) >= 2
    if missing_outside and not macro:
        problems.append(CardProblem("cut_off", f"the card is cut off: {len(corner_found)} of 4 corner markers in view; "
                                               "frame the whole card"))
    elif len(ids_found) < 2:
        problems.append(CardProblem("cut_off", "only one marker of the card is readable; the scale rests on it alone"))
    if sides.mean() < min_marker_px:
        problems.append(CardProblem("too_small", f"the card is too small in the photo (markers {sides.mean():.0f} px, "
                                                 f"need {min_marker_px:.0f}); move closer"))
    if len(keep) >= 2 and rms > bent_tolerance * float(sides.mean()):
        problems.append(CardProblem("bent", f"the markers do not lie on one plane ({rms:.1f} px off); "
                                            "lay the card flat"))
    # wrong scale 1: each marker's size against the spacing between markers (a card of another layout,
    # or one printed in pieces). Markers are mapped back to mm through a plane fitted on their centres.
    if len(keep) >= 4:
        centres_mm = np.array([np.mean(layout.markers[i], axis=0) for i in ids_found])
        centres_px = np.array([c.mean(axis=0) for c, _ in keep])
        hc, _ = cv2.findHomography(centres_mm, centres_px, 0)
        if hc is not None:
            inv = np.linalg.inv(hc)
            excess, worst = [], 0.0
            for (c, i), side_px in zip(keep, sides):
                back = cv2.perspectiveTransform(c[None], inv)[0]
                side_mm = float(np.mean(np.linalg.norm(back - np.roll(back, 1, axis=0), axis=1)))
                design = float(np.linalg.norm(np.subtract(layout.markers[i][1], layout.markers[i][0])))
                dev = abs(side_mm / design - 1.0)
                # blur moves a small marker's corners by a pixel or so: allow 1.5 px on top of the tolerance
                excess.append(dev - (scale_tolerance + 1.5 / float(side_px)))
                worst = max(worst, dev)
            if max(excess) > 0:
                problems.append(CardProblem("wrong_scale", f"marker sizes disagree with their spacing by {100 * worst:.0f}%: "
                                                           "this card was not printed at 100% as one piece"))
    # wrong scale 2: stretched print (x and y scaled differently) seen nearly head-on
    sv = np.linalg.svd(jac, compute_uv=False)
    corners_mm = np.array([[0, 0], [layout.width_mm, 0], [layout.width_mm, layout.height_mm], [0, layout.height_mm]])
    local = [_local_scale(h, x, y)[0] for x, y in corners_mm]
    head_on = (max(local) - min(local)) / ppmm < 0.01
    if head_on and sv[0] / sv[1] - 1.0 > scale_tolerance:
        problems.append(CardProblem("wrong_scale", f"the card is stretched by {100 * (sv[0] / sv[1] - 1):.0f}% in one "
                                                   "direction: print it at 100% with no scaling"))
    if expected_px_per_mm is not None and abs(ppmm / expected_px_per_mm - 1.0) > 0.05:
        problems.append(CardProblem("wrong_scale", f"the card gives {ppmm:.2f} px/mm but the device's scale is "
                                                   f"{expected_px_per_mm:.2f}: was the card printed at 100%?"))

    grey_rgb = gains = exposure = None
    gx0, gy0, gx1, gy1 = layout.grey_patch_mm
    inset_x, inset_y = 0.15 * (gx1 - gx0), 0.15 * (gy1 - gy0)
    patch = np.array([[[gx0 + inset_x, gy0 + inset_y], [gx1 - inset_x, gy0 + inset_y],
                       [gx1 - inset_x, gy1 - inset_y], [gx0 + inset_x, gy1 - inset_y]]], dtype=np.float64)
    patch_px = cv2.perspectiveTransform(patch, h)[0]
    inside = np.all((patch_px[:, 0] >= 0) & (patch_px[:, 0] < cols) & (patch_px[:, 1] >= 0) & (patch_px[:, 1] < rows))
    if inside:
        mask = np.zeros((rows, cols), dtype=np.uint8)
        cv2.fillConvexPoly(mask, np.rint(patch_px).astype(np.int32), 1)
        if mask.sum() >= 20:
            sample = arr[mask.astype(bool)].astype(np.float64)
            grey_rgb = tuple(float(v) for v in sample.mean(axis=0))
            lin = _srgb_to_linear(sample).mean(axis=0)
            if np.all(lin > 1e-4):
                gains = (float(lin[1] / lin[0]), 1.0, float(lin[1] / lin[2]))
                # Rec. 709 luminance weights on linear RGB
                lum = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
                exposure = lum / float(_srgb_to_linear(np.array([GREY_SRGB]))[0])
    return CardReading(
        found=True, px_per_mm=float(ppmm), px_per_mm_sd=float(sd),
        homography=tuple(tuple(float(v) for v in row) for row in h),  # type: ignore[misc]
        marker_ids=ids_found, reprojection_rms_px=rms, grey_rgb=grey_rgb,  # type: ignore[arg-type]
        white_balance_gains=gains, exposure_ratio=exposure, problems=tuple(problems), mirrored=mirrored,
    )

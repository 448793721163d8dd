"""The physical scale of a photo (pixels per millimetre): given, saved with a device, or measured from a
photo of a millimetre ruler or graph paper taken with that device.

The grid measurement finds the dominant spatial period in the 2-D spectrum, then refines it on the 1-D
profile across the lines: the profile's periodogram is maximised at sub-bin resolution on each of four
segments, and the spread of those four estimates gives the uncertainty. A frame with only a few lines across
(3 to 12: a dermoscope over millimetre paper), which the spectrum cannot read closely, is read from the lines'
own centres, fitted with a straight line. A photo without one clear period (no grid, or a scalp) is refused
rather than given a guessed scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage, optimize, signal

from hairtrack.errors import InputError

__all__ = ["check_px_per_mm", "Calibration", "GridMeasurement", "calibration_from_value", "measure_grid", "NoGridError"]


class NoGridError(InputError):
    """The photo shows no clear periodic grid to measure."""


class _NotRepeating(NoGridError):
    """The lines do not repeat at the photo's strongest period, or it spans the photo; ``f0`` and ``theta`` are
    that period's frequency (cycles per px of the working copy) and direction (radians)."""

    def __init__(self, message: str, f0: float, theta: float) -> None:
        super().__init__(message)
        self.f0, self.theta = f0, theta


@dataclass(frozen=True, slots=True)
class Calibration:
    """A photo's scale.

    Attributes
    ----------
    px_per_mm : float
        Image pixels per millimetre of scalp.
    source : str
        ``explicit`` (``--px-per-mm``), ``device`` (a saved device), ``grid`` (measured from a ruler or
        graph paper photo) or ``card`` (the calibration card in the photo).
    uncertainty_px_per_mm : float or None
        Standard uncertainty of ``px_per_mm`` where known.
    device : str or None
        The saved device it came from.
    """

    px_per_mm: float
    source: str = "explicit"
    uncertainty_px_per_mm: float | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        check_px_per_mm(self.px_per_mm)

    @property
    def mm_per_px(self) -> float:
        return 1.0 / self.px_per_mm


MIN_PX_PER_MM = 0.1
MAX_PX_PER_MM = 1e5
# A harmonic that tells lines from a checkerboard must stand this many times above the median of its ring.
_HARMONIC_CLEAR = 4.0
# Graph paper whose two directions' spacings differ by more than this share is refused (tilted, stretched).
_MAX_STRETCH = 0.03


def check_px_per_mm(px_per_mm: float | None) -> float | None:
    """Return ``px_per_mm`` as a float (None stays None), or raise :class:`InputError` naming the bad value.

    The one check of a scale everywhere (given, saved with a device, measured): a finite number between
    0.1 px/mm (below that a hair is a thousandth of a pixel: a unit mix-up) and 100,000 px/mm.
    """
    if px_per_mm is None:
        return None
    if isinstance(px_per_mm, bool):
        raise InputError(f"px_per_mm must be a finite number > 0, got {px_per_mm!r}")
    try:
        value = float(px_per_mm)
    except (TypeError, ValueError):
        raise InputError(f"px_per_mm must be a finite number > 0, got {px_per_mm!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"px_per_mm must be a finite number > 0, got {px_per_mm!r}")
    if not MIN_PX_PER_MM <= value <= MAX_PX_PER_MM:
        raise InputError(
            f"px_per_mm {value:g} is implausible: a photo's scale lies between {MIN_PX_PER_MM:g} and 100,000 px/mm"
        )
    return value


def calibration_from_value(px_per_mm: float, *, device: str | None = None, uncertainty: float | None = None) -> Calibration:
    """A calibration from a known value (``--px-per-mm`` or a saved device).

    Examples
    --------
    >>> calibration_from_value(152.5).px_per_mm
    152.5
    >>> calibration_from_value(-3.2)
    Traceback (most recent call last):
    ...
    hairtrack.errors.InputError: px_per_mm must be a finite number > 0, got -3.2
    """
    return Calibration(float(px_per_mm), "device" if device else "explicit", uncertainty, device)


@dataclass(frozen=True, slots=True)
class GridMeasurement:
    """The period of a ruler or graph-paper photo.

    Attributes
    ----------
    px_per_mm : float
        ``period_px / grid_mm``.
    uncertainty_px_per_mm : float
        Standard uncertainty: the larger of the four quarters' scatter (standard error) and half the distance
        between the whole photo's period and theirs (lens distortion, tilt); never below 0.1%.
    period_px : float
        One grid step in pixels.
    angle_deg : float
        Direction of the lines' normal, degrees from the image's x axis.
    peak_ratio : float
        Spectral peak over the median of its ring: how clear the grid is (the spectrum's reading is refused
        below 8; the line positions' reading, which needs no clear peak, gives it for the record).
    axes : int
        1 for a ruler, 2 when a second, perpendicular period agreed (graph paper, a checkerboard).
    pattern : str
        ``"lines"`` (graph paper, a ruler) or ``"checkerboard"`` (squares of ``grid_mm``; ``period_px`` is then
        the side of one square, not the diagonal period its spectrum shows).
    read_from : str
        ``"spectrum"`` (the profile's periodogram, many lines across) or ``"line positions"`` (a straight-line
        fit through each line's centre, for a frame with a few lines across: a dermoscope over millimetre paper).
    """

    px_per_mm: float
    uncertainty_px_per_mm: float
    period_px: float
    angle_deg: float
    peak_ratio: float
    axes: int
    pattern: str = "lines"
    read_from: str = "spectrum"


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.asarray(image, dtype=np.float64)


def _profile(grey: np.ndarray, theta: float, bin_px: float = 0.25, period_px: float | None = None) -> np.ndarray:
    """Mean intensity across the lines: coordinate u = x cos(theta) + y sin(theta), in bins of ``bin_px``, less
    its slow trend (light fall-off): a running mean over three periods (``period_px``), else an eighth of it."""
    rows, cols = np.indices(grey.shape, dtype=np.float64)
    u = cols * math.cos(theta) + rows * math.sin(theta)
    index = np.floor((u - u.min()) / bin_px).astype(np.int64)
    sums = np.bincount(index.ravel(), weights=grey.ravel())
    counts = np.bincount(index.ravel())
    keep = counts > max(4, counts.max() * 0.2)  # the ends of the diagonal see too few pixels
    first, last = np.argmax(keep), len(keep) - np.argmax(keep[::-1])
    profile = sums[first:last] / np.maximum(counts[first:last], 1)
    # Over a shorter window the trend would take the lines with it when a few periods fill the frame (it once
    # gave a 640 x 480 photo at 200 px/mm half its scale, from the second harmonic).
    window = int(3 * period_px / bin_px) if period_px else len(profile) // 8
    return profile - ndimage.uniform_filter1d(profile, size=max(3, window))


def _power(profile: np.ndarray, period: float, bin_px: float) -> float:
    """Periodogram of ``profile`` (sampled every ``bin_px``) at ``period`` px: squared amplitude x n²/4."""
    phase = 2 * np.pi * np.arange(len(profile)) * bin_px / period
    return float(np.dot(profile, np.cos(phase)) ** 2 + np.dot(profile, np.sin(phase)) ** 2)


def _refine_period(profile: np.ndarray, period0: float, bin_px: float, span: float = 0.06) -> float:
    """Period (px) maximising the periodogram of ``profile`` within ``span`` (relative) of ``period0``."""
    grid = np.linspace(period0 * (1 - span), period0 * (1 + span), 2 * int(math.ceil(span / 0.003)) + 1)
    best = grid[int(np.argmax([_power(profile, p, bin_px) for p in grid]))]
    step = grid[1] - grid[0]
    result = optimize.minimize_scalar(lambda p: -_power(profile, p, bin_px), bounds=(best - step, best + step),
                                      method="bounded", options={"xatol": 1e-6})
    return float(result.x)


def _autocorrelation(profile: np.ndarray, lag: int) -> float:
    """Correlation of ``profile`` with itself shifted by ``lag`` samples (0 when nothing overlaps)."""
    if lag <= 0 or lag >= len(profile) - 2:
        return 0.0
    a, b = profile[:-lag], profile[lag:]
    denominator = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return float(np.dot(a, b)) / denominator if denominator > 0 else 0.0


def _finest_period(profile: np.ndarray, period: float, bin_px: float) -> float:
    """The millimetre lines' period when ``period`` may be that of the bold lines (every 5th or 10th) alone.

    The harmonics of one set of lines fall off smoothly with their order; a 5th (or 10th) harmonic standing well
    above that fall (over 1.4 times the geometric mean of its neighbours, not much under the one before, and
    over 0.15 of the fundamental) holds the finer lines' own fundamental, their thin strokes washed out beside the
    bold ones by blur or faint ink.
    """
    def amp(k: int) -> float:
        return _power(profile, _refine_period(profile, period / k, bin_px, 0.01), bin_px) ** 0.5

    # every 5th line bold (graph paper), else every 10th (a ruler's long, numbered ticks: there the 5th is
    # the 2 mm, a harmonic of the 10 mm ticks alone, and stands out of nothing)
    for k in (5, 10):
        if period / (k + 1) < 16 * bin_px:
            break
        a1, below, at, above = amp(1), amp(k - 1), amp(k), amp(k + 1)
        if at > 1.4 * math.sqrt(below * above) and at > 0.7 * below and at > 0.15 * a1:
            # (A check that the finer lines' edges repeat at that spacing would keep rulers and distorted frames
            # from the rare false jump to 0.2x, but faint thin lines fail it as often as those: measured, not kept.)
            return _refine_period(profile, period / k, bin_px, 0.01)
    return period


def _edges(profile: np.ndarray, bin_px: float) -> np.ndarray:
    """The derivative of the profile smoothed over 1 px: its lines' edges, without the light's slow fall-off."""
    return np.diff(ndimage.gaussian_filter1d(profile, max(1.0, 1.0 / bin_px)))


def _amplitude_near(spectrum: np.ndarray, f: float, direction: float) -> tuple[float, float]:
    """The spectrum's largest value within 4% (or two bins) of frequency ``f`` in ``direction`` (radians), and
    the median of its ring at that radius (the background it must stand out of); NaN where that lies past either
    axis's Nyquist limit (an aliased component would answer instead)."""
    rows, cols = spectrum.shape
    tolerance = max(0.04 * f, 2.0 / min(rows, cols))
    if max(abs(f * math.cos(direction)), abs(f * math.sin(direction))) + tolerance >= 0.5:  # each axis's own limit
        return float("nan"), float("nan")
    fy = np.fft.fftshift(np.fft.fftfreq(rows))[:, None]
    fx = np.fft.fftshift(np.fft.fftfreq(cols))[None, :]
    near = np.hypot(fx - f * math.cos(direction), fy - f * math.sin(direction)) < tolerance
    ring = np.abs(np.hypot(fx, fy) - f) < tolerance
    return float(spectrum[near].max()), float(np.median(spectrum[ring]))


def _pattern(spectrum: np.ndarray, f0: float, theta: float) -> str | None:
    """``"lines"``, ``"checkerboard"`` or ``None`` (cannot tell) for a pattern whose spectrum peaks at ``f0`` in
    direction ``theta`` with a perpendicular peak of the same length.

    Graph paper is a sum of lines: its spectrum lies on the lines' two axes, at every multiple of their
    frequency (thin lines: strong 2nd harmonics). A checkerboard is a product of two square waves: its peaks are
    its squares' diagonals (``f0``), with no 2nd harmonic there (the squares are as wide as the gaps) but a
    component at sqrt(5) ``f0``, 26.6 degrees off it (the (3, 1) harmonic). Whichever stands out more says which.
    (The direction of the edges, used before, took blurred graph paper for a checkerboard: a 0.707x scale.)
    Blurred until neither harmonic shows, the two look the same and nothing is said.
    """
    second = [_amplitude_near(spectrum, 2 * f0, theta + k * math.pi / 2) for k in (0, 1)]
    third_one = [_amplitude_near(spectrum, math.sqrt(5) * f0, theta + sign * math.atan(0.5) + k * math.pi / 2)
                 for sign in (1, -1) for k in (0, 1)]

    def standing(pairs: list[tuple[float, float]]) -> float:  # the strongest, in units of its background
        ratios = [a / b if b > 0 else (math.inf if a > 0 else 0.0) for a, b in pairs if math.isfinite(a)]
        return max(ratios) if ratios else float("nan")

    lines, squares = standing(second), standing(third_one)
    if not (math.isfinite(squares) and math.isfinite(lines)):  # past the Nyquist limit: nothing to compare
        return None
    if max(lines, squares) < _HARMONIC_CLEAR:
        return None
    return "lines" if lines >= squares else "checkerboard"


def _refined_direction(small: np.ndarray, theta: float, period: float, f0: float) -> float:
    """The lines' normal (radians) maximising the profile's power at ``period`` (px of ``small``), searched within
    1.5 spectral bins of ``theta`` (at most 4 degrees)."""
    bin_px = min(0.25, period / 80)
    half = min(math.radians(4), 1.5 * math.atan2(1.0, f0 * min(small.shape)))

    def power(t: float) -> float:
        return _power(_profile(small, t, bin_px, period), period, bin_px)

    grid = np.linspace(theta - half, theta + half, 13)
    best = grid[int(np.argmax([power(t) for t in grid]))]
    step = grid[1] - grid[0]
    return float(optimize.minimize_scalar(lambda t: -power(t), bounds=(best - step, best + step), method="bounded",
                                          options={"xatol": 1e-6}).x)


def _spectral_peaks(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = grey.shape
    window = np.outer(np.hanning(rows), np.hanning(cols))
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2((grey - grey.mean()) * window)))
    fy = np.fft.fftshift(np.fft.fftfreq(rows))[:, None]
    fx = np.fft.fftshift(np.fft.fftfreq(cols))[None, :]
    radius = np.hypot(fx, fy)
    return spectrum, radius, np.arctan2(fy, fx) + 0 * radius


def measure_grid(image: np.ndarray, *, grid_mm: float = 1.0, min_period_px: float = 4.0) -> GridMeasurement:
    """Measure px/mm from a photo of a ruler or graph paper with lines every ``grid_mm`` millimetres, or of
    a checkerboard with squares of ``grid_mm``.

    Parameters
    ----------
    image : ndarray
        Grey (H x W) or RGB (H x W x 3) photo, the grid filling most of it, in focus.
    grid_mm : float
        Spacing of the lines in millimetres (1 for millimetre graph paper).
    min_period_px : float
        Shortest period accepted; finer grids are not resolved reliably.

    Raises
    ------
    NoGridError
        No clear periodic grid (a blank page, a scalp, a blurred photo), or a few lines across whose positions
        give another spacing than the spectrum.

    Examples
    --------
    >>> rows, cols = np.indices((400, 400))
    >>> lines = (np.mod(cols * np.cos(0.2) + rows * np.sin(0.2), 12.5) < 2).astype(float)
    >>> m = measure_grid(255 - 200 * lines, grid_mm=1.0)
    >>> round(m.px_per_mm, 1), m.axes
    (12.5, 1)
    """
    if not (isinstance(grid_mm, int | float) and math.isfinite(grid_mm) and grid_mm > 0):
        raise InputError(f"grid_mm must be a finite number > 0, got {grid_mm}")
    grey = _grey(np.asarray(image))
    if grey.ndim != 2 or min(grey.shape) < 64:
        raise InputError(f"a grid photo must be at least 64 x 64 px, got {grey.shape[1] if grey.ndim == 2 else '?'} x {grey.shape[0]}")
    seen = _working_spectrum(grey, min_period_px)
    try:
        return _checked(grey, seen, grid_mm, min_period_px, _measure(grey, seen, grid_mm))
    except _NotRepeating as exc:
        refusal = NoGridError(str(exc))
        # A ruler's edge across a table is a step: its spectrum runs along the edge's normal, strongest at the
        # longest periods, and in a phone photo it won over the ticks, which repeat along the edge (at right angles
        # to it in the spectrum). Look again finer and away from that direction, with every check; refused for
        # the first reason if that fails too.
        off = np.abs(np.mod(seen.angle - exc.theta + np.pi / 2, np.pi) - np.pi / 2)
        away = seen.valid & (seen.radius > 1.5 * exc.f0) & (off > _EDGE_WEDGE)
        if away.any():
            try:
                found = _measure(grey, seen._replace(valid=away), grid_mm, min_periods=_AWAY_MIN_PERIODS)
            except NoGridError:
                pass
            else:
                return _checked(grey, seen, grid_mm, min_period_px, found)
    except _Disagree:
        raise
    except NoGridError as exc:
        refusal = exc
    # With a few lines across the frame (a 70x dermoscope over millimetre paper shows four to six) the spectrum
    # says little: its peak lies a few bins from the centre, broad, and each quarter of the photo holds a line or
    # two. The lines themselves say more: a straight line through their centres gives the spacing to a fraction
    # of a percent. Tried where the spectrum refused, with its own checks; refused for the first reason if not.
    try:
        return _few_lines(grey, seen, grid_mm, min_period_px)
    except NoGridError:
        raise refusal from None


class _Disagree(NoGridError):
    """The spectrum's reading and the lines' positions give different spacings."""


def _checked(grey: np.ndarray, seen: _Spectrum, grid_mm: float, min_period_px: float,
             found: GridMeasurement) -> GridMeasurement:
    """``found`` (the spectrum's reading) checked by the lines' positions where the photo has a few lines across.

    If they give another spacing, by more than 3% and more than three combined standard uncertainties, neither is
    taken (the spectrum took a 3rd harmonic of a 640 x 480 frame's lines for them, 0.33x, and distortion moved
    another 6%; the lines' positions were right both times, but could be a faint paper's bold lines alone). If
    they agree, the reading with the smaller uncertainty stands.
    """
    try:
        lines = _few_lines(grey, seen, grid_mm, min_period_px)
    except NoGridError:
        return found
    a, b = found.px_per_mm, lines.px_per_mm
    if abs(a / b - 1) > 0.03 and abs(a - b) > 3 * math.hypot(found.uncertainty_px_per_mm, lines.uncertainty_px_per_mm):
        raise _Disagree(f"the grid's spacing reads {a * grid_mm:.1f} px from its spectrum but {b * grid_mm:.1f} px from "
                        "its lines' positions: photograph it flat, square to the camera and in focus, with more "
                        "lines across")
    # the two agree: the closer reading stands (a few lines' positions are read to about 0.1-0.5%, the spectrum's
    # broad peak to 1-2%)
    return lines if lines.uncertainty_px_per_mm < found.uncertainty_px_per_mm else found


# Looking again away from a refused long period (a ruler's edge): the directions within this angle of it are
# left out, and the period found must fit this many times across the photo (a ruler shows dozens of ticks;
# graph paper with two lines across read 0.77-0.84x from a harmonic otherwise).
_EDGE_WEDGE = math.radians(30.0)
_AWAY_MIN_PERIODS = 5


class _Spectrum(NamedTuple):
    """The working copy of a grid photo (``grey`` every ``step`` px) and its spectrum, with each frequency's
    radius and direction and the frequencies ``valid`` to look at."""

    small: np.ndarray
    step: int
    spectrum: np.ndarray
    radius: np.ndarray
    angle: np.ndarray
    valid: np.ndarray


def _working_spectrum(grey: np.ndarray, min_period_px: float) -> _Spectrum:
    """The spectrum :func:`measure_grid` looks for the lines' period in; refuses a blank photo, or one too small
    for any period."""
    # Work on at most ~1 MP: the period is refined on the full image afterwards.
    step = max(1, int(math.ceil(math.sqrt(grey.size / 1.0e6))))
    small = grey[::step, ::step]
    if float(np.percentile(small, 99) - np.percentile(small, 1)) < 8:
        raise NoGridError("no clear grid: the photo is blank (no contrast); photograph millimetre graph paper or a ruler")
    # Light falling off to the corners, or a gradient, would peak at the longest periods: take it out first.
    flat = small - ndimage.gaussian_filter(small, min(small.shape) / 8)
    spectrum, radius, angle = _spectral_peaks(flat)
    max_radius = 1.0 / (min_period_px / step)
    # periods up to half the frame: two lines at least (a period over a third of it once gave its 2nd harmonic)
    valid = (radius > 2.0 / min(small.shape)) & (radius < min(0.5, max_radius)) & (angle > -np.pi / 2) & (angle <= np.pi / 2)
    if not valid.any():
        raise NoGridError("no clear grid: the photo is too small for its line spacing")
    return _Spectrum(small, step, spectrum, radius, angle, valid)


def _strongest(seen: _Spectrum) -> tuple[float, float, float, float]:
    """The strongest of ``seen``'s valid frequencies: its radius (cycles per px of the working copy), direction
    (radians), height, and that height over the median of its ring."""
    masked = np.where(seen.valid, seen.spectrum, 0.0)
    peak = np.unravel_index(int(np.argmax(masked)), masked.shape)
    f0, theta, height = float(seen.radius[peak]), float(seen.angle[peak]), float(masked[peak])
    ring = seen.valid & (np.abs(seen.radius - f0) < 0.1 * f0 + 1.5 / min(seen.small.shape))
    background = float(np.median(seen.spectrum[ring])) if ring.any() else 0.0
    return f0, theta, height, height / background if background > 0 else 0.0


def _measure(grey: np.ndarray, seen: _Spectrum, grid_mm: float, min_periods: int = 2) -> GridMeasurement:
    """:func:`measure_grid` from the strongest of ``seen``'s valid periods, which must fit ``min_periods`` times
    across the photo. Raises :class:`_NotRepeating` when the lines do not repeat at it or fewer fit across, and
    NoGridError for the other refusals."""
    small, step, spectrum, radius, angle, valid = seen
    f0, theta, height, peak_ratio = _strongest(seen)
    # the peak as the grey-level amplitude of a wave: printed lines reach about 20, light falling off on blank
    # paper 0.3 (its spectrum is smooth, so it can stand out of its ring by itself)
    amplitude = 2.0 * height / float(np.hanning(small.shape[0]).sum() * np.hanning(small.shape[1]).sum())
    if amplitude < 2.0:
        raise NoGridError(f"no clear grid in the photo (its strongest period varies by only {amplitude:.1f} grey levels): "
                          "photograph millimetre graph paper or a ruler, flat, in focus, filling the frame")
    if not peak_ratio >= 8.0:  # also catches a blank photo, whose spectrum is all zeros
        raise NoGridError(
            f"no clear grid in the photo (spectral peak only {peak_ratio:.1f}x its surroundings, 8x needed): "
            "photograph millimetre graph paper or a ruler, flat, in focus, filling the frame"
        )
    # A second, perpendicular period of about the same length confirms graph paper (within 5%: a camera a little
    # off square to the paper stretches one more than the other, measured below; further off, a ruler's ticks
    # of three lengths would pass for a second set of lines).
    perpendicular = valid & (np.abs(np.abs(np.sin(angle - theta)) - 1) < 0.05) & (np.abs(radius - f0) < 0.05 * f0)
    axes, f_other = 1, f0
    if perpendicular.any():
        at = np.unravel_index(int(np.argmax(np.where(perpendicular, spectrum, 0.0))), spectrum.shape)
        if spectrum[at] > 0.25 * height:
            axes, f_other = 2, float(radius[at])
    # A checkerboard's spectrum peaks along the squares' diagonals, at sqrt(2) times their side: the same two
    # perpendicular peaks as graph paper turned 45 degrees. Their harmonics tell them apart (_pattern). (Read as
    # lines, a checkerboard gave a confident scale 1.41x too large, a density twice too small.)
    checkerboard = False
    if axes == 2:
        checkerboard = _is_checkerboard(grey, seen, f0, theta)
    # The spectrum's bins are 1/N apart: the coarse period is uncertain by about period / N either way.
    span = max(0.06, 1.5 * (1.0 / f0) / min(small.shape))
    bin_px = min(0.25, step / f0 / 80)
    whole_profile = _profile(grey, theta, bin_px, 2 * step / f0)
    period0 = _refine_period(whole_profile, step / f0, bin_px, span)
    # The spectrum's peak may be a harmonic of the lines (their 2nd or 3rd), with four lines or fewer across the
    # frame (the window weakens the fundamental) or on a ruler, whose ticks fill a strip of it. The profile says:
    # shifted by the true period it matches itself, shifted by half or a third of it the lines fall between lines.
    # (Its edges, the derivative of the lightly smoothed profile: light falling off would match itself at any lag.)
    edges = _edges(whole_profile, bin_px)
    at_1 = _autocorrelation(edges, int(round(period0 / bin_px)))
    if at_1 < 0.3:  # the lines do not repeat at the period found (true periods: 0.6-0.95)
        for m in (2, 3):
            at_m = _autocorrelation(edges, int(round(m * period0 / bin_px)))
            if at_m > max(0.02, 2 * at_1):
                period0 = _refine_period(whole_profile, m * period0, bin_px, 0.03)
                break
        else:
            raise _NotRepeating(f"the lines do not repeat every {period0:.0f} px, the spacing the photo's spectrum "
                                "suggests: too few lines across it, or not a grid; use finer graph paper or a lower "
                                "magnification", f0, theta)
    # The lines' direction to better than the spectrum's bin (half a bin off, the profile across a long frame
    # smears, its higher harmonics fall unevenly, and a 5th one could stand out: 0.2x or 5x the scale).
    theta = _refined_direction(small, theta, period0 / step, f0)
    whole_profile = _profile(grey, theta, bin_px, period0)
    period0 = _refine_period(whole_profile, period0, bin_px, 0.01)
    period0 = _finest_period(whole_profile, period0, bin_px)
    if min(grey.shape) < min_periods * period0:
        raise _NotRepeating(f"the lines are {period0:.0f} px apart: fewer than two across the photo; use finer "
                            "graph paper or a lower magnification", f0, theta)
    bin_px = min(0.25, period0 / 16)

    def period_along(direction: float, start: float) -> tuple[float, float]:
        """The period across lines of normal ``direction``, and its uncertainty: the quarters' scatter, and how
        far the whole photo's period lies from theirs (lens distortion, tilt)."""
        estimates = []
        for part in np.array_split(grey, 2, axis=0):
            for quarter in np.array_split(part, 2, axis=1):
                estimates.append(_refine_period(_profile(quarter, direction, bin_px, start), start, bin_px))
        whole = _refine_period(_profile(grey, direction, bin_px, start), start, bin_px)
        return whole, max(float(np.std(estimates, ddof=1) / math.sqrt(len(estimates))),
                          abs(whole - float(np.median(estimates))) / 2)

    whole, spread = period_along(theta, period0)
    if axes == 2 and not checkerboard:
        # Graph paper has a period across each set of lines: a camera not square to the paper, or pixels that
        # are not, stretch one more than the other. An area's scale is their geometric mean; one axis alone was
        # off by the whole stretch, with a tight uncertainty.
        # from the first axis's period, or from where the spectrum's coarse bins put the second's when the two
        # differ (a few lines across the frame put it a bin or two off): whichever the lines fit better
        across = theta + math.pi / 2
        profile_across = _profile(grey, across, bin_px, period0)
        start = max({period0, period0 * f0 / f_other}, key=lambda p0: _power(
            profile_across, _refine_period(profile_across, p0, bin_px), bin_px))
        other, other_spread = period_along(across, start)
        whole, spread = _both_axes(whole, spread, other, other_spread)
    return _result(whole, spread, grid_mm, theta, peak_ratio, axes, checkerboard)


def _is_checkerboard(grey: np.ndarray, seen: _Spectrum, f0: float, theta: float) -> bool:
    """Whether two perpendicular periods of frequency ``f0`` (cycles per px of ``seen``'s working copy) in
    direction ``theta`` are a checkerboard's diagonals rather than graph paper's lines (:func:`_pattern`);
    refused when the photo cannot tell."""
    small, step = seen.small, seen.step
    pattern = _pattern(seen.spectrum, f0, theta)
    if pattern is None and step > 1:  # the harmonics lie past the working copy's Nyquist limit: look at
        # the photo itself, a crop of it the working copy's size
        r0, c0 = [max((n - m) // 2, 0) for n, m in zip(grey.shape, (small.shape[0], small.shape[1]))]
        crop = grey[r0:r0 + small.shape[0], c0:c0 + small.shape[1]]
        crop = crop - ndimage.gaussian_filter(crop, min(crop.shape) / 8)
        pattern = _pattern(_spectral_peaks(crop)[0], f0 / step, theta)
    if pattern is None:
        raise NoGridError("the photo is too blurred, or its pattern too fine, to tell graph paper from a "
                          "checkerboard (their scales differ by 1.41x): photograph it in focus, from closer")
    return pattern == "checkerboard"


def _both_axes(whole: float, spread: float, other: float, other_spread: float) -> tuple[float, float]:
    """Graph paper's period (px) and its uncertainty from those of its two sets of lines."""
    stretch = max(whole, other) / min(whole, other) - 1
    noise = math.hypot(spread, other_spread)
    if abs(whole - other) > 3 * noise:  # a real stretch, not the scatter of a few lines
        if stretch > _MAX_STRETCH:
            raise NoGridError(f"the grid's spacing differs by {100 * stretch:.1f}% between its two directions "
                              "(the camera was not square to the paper, or the print is stretched): photograph "
                              "it flat and square to the camera")
        return math.sqrt(whole * other), 0.5 * noise + 0.25 * abs(whole - other)
    # the same spacing, each read as closely as its lines allow: weighted by how closely
    w1, w2 = 1 / max(spread, 1e-9) ** 2, 1 / max(other_spread, 1e-9) ** 2
    return (w1 * whole + w2 * other) / (w1 + w2), 1 / math.sqrt(w1 + w2)


def _result(whole: float, spread: float, grid_mm: float, theta: float, peak_ratio: float, axes: int,
            checkerboard: bool, read_from: str = "spectrum") -> GridMeasurement:
    """The measurement from the period ``whole`` (px; a checkerboard's diagonal one) and its uncertainty
    ``spread``; refused when that is over 2%."""
    if checkerboard:  # the squares' side, from their diagonal period
        whole, spread = whole / math.sqrt(2), spread / math.sqrt(2)
    px_per_mm = whole / grid_mm
    # a checkerboard's diagonal period is read less closely than lines' (median errors 0.3-0.7% on the
    # rendered boards of benchmarks/calibration.py): its uncertainty is never under 0.5%
    uncertainty = max(spread / grid_mm, (0.005 if checkerboard else 0.001) * px_per_mm)
    if uncertainty > 0.02 * px_per_mm:
        raise NoGridError(
            f"the grid's spacing varies across the photo by {100 * uncertainty / px_per_mm:.1f}% "
            "(tilted, curved or out of focus): photograph it flat and square to the camera"
        )
    return GridMeasurement(
        px_per_mm=px_per_mm,
        uncertainty_px_per_mm=uncertainty,
        period_px=whole,
        angle_deg=math.degrees(theta),
        peak_ratio=peak_ratio,
        axes=axes,
        pattern="checkerboard" if checkerboard else "lines",
        read_from=read_from,
    )


# The line positions' reading (_few_lines): at most this many lines across the frame (more, and the spectrum is
# the right tool); at least _FEW_MIN_LINES on one set of lines and 3 on the other when it is seen; every spacing
# within _FEW_GAP of their median (lens distortion and tilt reach 2-3%); lines no wider at half depth than
# _FEW_WIDTH of their spacing (printed lines are thin: the widest bold ones are a quarter of it); each line found
# again, at the same place, in _FEW_STRIPS - 1 of the _FEW_STRIPS strips along the lines (straight lines, not
# a texture's chance alignment).
_FEW_MAX_ACROSS = 12
_FEW_MAX_PX = 4.0e6  # larger photos are read in blocks of k x k px
_FEW_MIN_LINES = 4
_FEW_GAP = 0.08
_FEW_WIDTH = 0.45
_FEW_STRIPS = 3


class _AxisReading(NamedTuple):
    period_px: float
    spread_px: float
    lines: int


def _sharpness(small: np.ndarray, theta: float, bin_px: float) -> float:
    """How sharply the profile across lines of normal ``theta`` changes: greatest where lines lie along the bins.
    (Smoothed over two bins first: near 0 and 90 degrees whole pixel columns fall into bins unevenly, a sawtooth
    that once outweighed a ruler's ticks 7 degrees away.)"""
    return float(np.sum(np.diff(ndimage.gaussian_filter1d(_profile(small, theta, bin_px), 2.0)) ** 2))


def _sharpest_direction(small: np.ndarray, theta: float, bin_px: float, half_deg: float) -> float:
    """The lines' normal (radians) within ``half_deg`` of ``theta``: with a few lines across, the spectrum's bins
    are up to 15 degrees wide, so the direction is found from the profile itself."""
    half = math.radians(half_deg)
    grid = np.linspace(theta - half, theta + half, 4 * int(half_deg) + 1)
    best = grid[int(np.argmax([_sharpness(small, t, bin_px) for t in grid]))]
    step = grid[1] - grid[0]
    return float(optimize.minimize_scalar(lambda t: -_sharpness(small, t, bin_px), bounds=(best - step, best + step),
                                          method="bounded", options={"xatol": 1e-5}).x)


def _dark_lines(profile: np.ndarray, seen: np.ndarray, period: float, bin_px: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Centres (px along the profile) and half-depth widths (px) of the dark lines in ``profile`` (bins of
    ``bin_px``; ``seen`` marks bins with enough pixels), spaced about ``period`` px, and the deepest line's depth
    (grey levels). The paper is the profile's upper envelope; a line is a dip at least a quarter as deep as the
    deepest, clear of the ends of what was seen."""
    window = max(3, int(0.6 * period / bin_px))
    paper = ndimage.uniform_filter1d(ndimage.grey_closing(profile, size=window), max(3, window // 2))
    depth = np.clip(paper - profile, 0.0, None)
    depth[~seen] = 0.0
    smooth = ndimage.gaussian_filter1d(depth, max(1.0, 0.01 * period / bin_px))
    deepest = float(smooth.max())
    if deepest <= 0:
        return np.empty(0), np.empty(0), 0.0
    peaks, _ = signal.find_peaks(smooth, distance=max(1, int(0.5 * period / bin_px)), prominence=0.25 * deepest)
    first, last = np.argmax(seen), len(seen) - np.argmax(seen[::-1])
    half = max(1, int(0.25 * period / bin_px))
    peaks = peaks[(peaks - half >= first) & (peaks + half < last)]  # a line cut by the frame's corner: off centre
    widths = signal.peak_widths(smooth, peaks, rel_height=0.5)[0] * bin_px if len(peaks) else np.empty(0)
    centres = []
    for p in peaks:  # the centroid of the dip's lower half: the paper's slope beside it does not pull it
        d = np.clip(depth[p - half:p + half + 1] - 0.5 * smooth[p], 0.0, None)
        centres.append((p - half + float(np.dot(d, np.arange(len(d)))) / max(float(d.sum()), 1e-12)) * bin_px)
    return np.array(centres), widths, deepest


def _binned(grey: np.ndarray, index: np.ndarray, weights: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``grey`` in each of ``n`` bins ``index`` (where ``weights`` is set) and whether the bin saw enough
    pixels."""
    w = None if weights is None else weights.ravel()
    sums = np.bincount(index.ravel(), weights=grey.ravel() if w is None else grey.ravel() * w, minlength=n)
    counts = np.bincount(index.ravel(), weights=w, minlength=n)
    seen = counts > max(4.0, float(counts.max()) * 0.2)
    mean = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    if seen.any():  # the unseen ends take the nearest seen value, so that they make no dip
        idx = np.arange(n)
        mean = np.interp(idx, idx[seen], mean[seen])
    return mean, seen


def _axis_reading(grey: np.ndarray, theta: float, periods: tuple[float, ...]) -> _AxisReading | None:
    """The spacing of the dark lines of normal ``theta``, from a straight line through their centres, looked for
    about each of ``periods`` px apart: the reading with the most lines; None where none lie on one evenly spaced,
    straight set."""
    rows, cols = np.indices(grey.shape, dtype=np.float64)
    u = cols * math.cos(theta) + rows * math.sin(theta)
    u -= u.min()
    v = -cols * math.sin(theta) + rows * math.cos(theta)
    cuts = np.quantile(v, np.linspace(0, 1, _FEW_STRIPS + 1))
    strips = [(v >= a) & (v <= b) for a, b in zip(cuts[:-1], cuts[1:])]
    readings = [r for r in (_lines_at(grey, u, strips, period0) for period0 in periods) if r is not None]
    return max(readings, key=lambda r: r.lines, default=None)


def _lines_at(grey: np.ndarray, u: np.ndarray, strips: list[np.ndarray], period0: float) -> _AxisReading | None:
    """:func:`_axis_reading` for lines about ``period0`` px apart, ``u`` px across them and ``strips`` along them."""
    bin_px = max(0.25, period0 / 200)
    index = np.floor(u / bin_px).astype(np.int64)
    n = int(index.max()) + 1
    profile, seen = _binned(grey, index, None, n)
    centres, widths, deepest = _dark_lines(profile, seen, period0, bin_px)
    if len(centres) < 3 or deepest < 2.0:  # under two grey levels: no printed line (the spectrum's own floor)
        return None
    gaps = np.diff(centres)
    spacing = float(np.median(gaps))
    if np.any(np.abs(gaps / spacing - 1) > _FEW_GAP) or np.any(widths > _FEW_WIDTH * spacing):
        return None
    k = np.arange(len(centres), dtype=float)
    (period, offset), residuals = np.polyfit(k, centres, 1, full=True)[:2]
    se = math.sqrt(float(residuals[0]) / (len(k) - 2) / float(np.sum((k - k.mean()) ** 2))) if len(k) > 2 and len(residuals) else 0.0
    # the same lines in strips along them: each found again within a tenth of the spacing
    found = np.zeros(len(centres), int)
    periods = []
    for strip in strips:
        part_profile, part_seen = _binned(grey, index, strip, n)
        part, _, _ = _dark_lines(part_profile, part_seen, period0, bin_px)
        if not len(part):
            continue
        nearest = part[np.argmin(np.abs(part[None, :] - centres[:, None]), axis=1)]
        hit = np.abs(nearest - centres) < 0.1 * spacing
        found += hit
        if hit.sum() >= 3:
            periods.append(float(np.polyfit(k[hit], nearest[hit], 1)[0]))
    if np.any(found < _FEW_STRIPS - 1) or len(periods) < 2:
        return None
    spread = max(se, float(np.std(periods, ddof=1)) / math.sqrt(len(periods)),
                 abs(float(period) - float(np.median(periods))) / 2)
    return _AxisReading(float(period), spread, len(centres))


def _few_lines(grey: np.ndarray, seen: _Spectrum, grid_mm: float, min_period_px: float) -> GridMeasurement:
    """:func:`measure_grid` for a frame with a few lines across (3 to 12): each set of lines read from its lines'
    centres (:func:`_axis_reading`), in the direction the profile is sharpest near the spectrum's peak."""
    small, step = seen.small, seen.step
    f0, theta, _, peak_ratio = _strongest(seen)
    period0 = step / f0
    if period0 < min_period_px or max(grey.shape) > _FEW_MAX_ACROSS * period0:
        raise NoGridError("not a few lines across")
    bin_small = max(1.0, period0 / step / 40)
    theta = _sharpest_direction(small, theta, bin_small, 15.0)
    across = _sharpest_direction(small, theta + math.pi / 2, bin_small, 3.0)
    # The lines are a hundred px apart or more: blocks of k x k px read them as closely, in a fraction of the
    # memory (a reading holds five arrays of the photo's size in 8-byte floats: about 0.5 GB at 12 MP).
    k = max(1, math.ceil(math.sqrt(grey.size / _FEW_MAX_PX)))
    rows, cols = grey.shape[0] // k, grey.shape[1] // k
    blocks = grey[:rows * k, :cols * k].reshape(rows, k, cols, k).mean(axis=(1, 3)) if k > 1 else grey
    # The spectrum's strongest period may be the lines' 2nd harmonic (a ruler's ticks, a few lines across): the
    # envelope and the dips are looked for at it and at twice it, and the set of lines with more of them stands.
    first, second = (_axis_reading(blocks, t, (period0 / k, 2 * period0 / k)) for t in (theta, across))
    if first is None or (second is not None and second.lines > first.lines):
        first, second, theta, across = second, first, across, theta
    if first is None or first.lines < _FEW_MIN_LINES:
        raise NoGridError("too few evenly spaced straight lines")
    axes, checkerboard = 1, False
    whole, spread = k * first.period_px, k * first.spread_px
    # a second set of lines of about the same spacing makes graph paper, or a checkerboard's other diagonal
    if second is not None and abs(second.period_px / first.period_px - 1) < 0.05:
        axes = 2
        checkerboard = _is_checkerboard(grey, seen, step / whole, theta)
        whole, spread = _both_axes(whole, spread, k * second.period_px, k * second.spread_px)
    elif _pattern(seen.spectrum, step / whole, theta) == "checkerboard":
        # one diagonal of a checkerboard read as lines (1.41x the scale), the other not seen
        raise NoGridError("a checkerboard with only one set of its diagonals clear: photograph it square to the "
                          "camera, filling the frame, with more squares across")
    return _result(whole, spread, grid_mm, theta, peak_ratio, axes, checkerboard, "line positions")

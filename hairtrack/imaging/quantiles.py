"""Percentiles and medians as numpy computes them, computed faster where the measuring code asks for many.

Two cases cost more than they should in numpy:

- A percentile per row of a small 2-D array with NaNs (a shaft's width over its profiles, one row a shaft):
  ``np.nanpercentile(..., axis=1)`` works row by row in Python, about 10 ms of a photo's 200 on one slow
  core. Sorting every row at once (NaNs sort last) and indexing gives the same numbers.
- A percentile of a large uint8 array (a photo's grey levels): a 256-bin histogram replaces numpy's partition
  of a third of a million values (3.4 ms -> 0.4 ms of the quality's figures). The histogram may be taken through
  a mask (the usable field), so the pixels need not be picked out first, and shares of levels (the clipped
  pixels, the hues of the coloured ones) are read off the same counts.

Each function returns what numpy's default ("linear") method returns, to the bit: the interpolation is
numpy's own (``numpy.lib._function_base_impl._lerp``), and ``tests/imaging/test_quantiles.py`` compares the two
on random arrays. Figures that a change of method would move are what the method guard protects, so these are
drop-in replacements, never approximations.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def _lerp(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation, with its two formulas (from ``a`` below 0.5, from ``b`` above), in the
    values' own precision: numpy casts the weight, and one minus it, to float32 for float32 values."""
    t = gamma.astype(a.dtype)
    diff = b - a
    out = a + diff * t
    np.subtract(b, diff * (1.0 - gamma).astype(a.dtype), out=out, where=gamma >= 0.5)
    return out


def _sorted_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of a 2-D array sorted (NaNs last, float32 kept as numpy keeps it), and its count of numbers."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"a 2-D array expected, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    counts = np.count_nonzero(~np.isnan(x), axis=1)
    if (counts == 0).any():
        raise ValueError("every row needs a number")
    return np.sort(x, axis=1), counts


def nan_row_percentiles(x: np.ndarray, pct: float) -> np.ndarray:
    """``np.nanpercentile(x, pct, axis=1)`` for a 2-D float array whose every row holds a number.

    Parameters
    ----------
    x : ndarray
        (n, k) float (float32 stays float32, as in numpy); NaN marks a missing value. Each row needs at least one
        number (a row of NaNs would be NaN with a warning in numpy; here it raises).
    pct : float
        The percentile, 0-100.

    Returns
    -------
    ndarray
        (n,), of ``x``'s float type.
    """
    s, counts = _sorted_rows(x)
    n = s.shape[0]
    virtual = (counts - 1) * (float(pct) / 100.0)  # numpy's "linear" virtual index, (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo = prev.astype(np.intp)
    hi = lo + 1
    top = virtual >= counts - 1  # at or past the last value: that value
    lo[top] = counts[top] - 1
    hi[top] = counts[top] - 1
    rows = np.arange(n)
    return _lerp(s[rows, lo], s[rows, hi], gamma)


def nan_row_medians(x: np.ndarray) -> np.ndarray:
    """``np.nanmedian(x, axis=1)`` for a 2-D float array whose every row holds a number: the mean of the two
    middle values of each row's numbers (the middle one twice for an odd count), in ``x``'s float type.

    Parameters
    ----------
    x : ndarray
        (n, k) float; NaN marks a missing value, at least one number per row.

    Returns
    -------
    ndarray
        (n,), of ``x``'s float type.
    """
    s, counts = _sorted_rows(x)
    rows = np.arange(s.shape[0])
    return (s[rows, (counts - 1) // 2] + s[rows, counts // 2]) / 2


def uint8_percentiles(values: np.ndarray, pcts: Sequence[float]) -> np.ndarray:
    """``np.percentile(values, pcts)`` for uint8 values, from their histogram.

    Parameters
    ----------
    values : ndarray
        uint8, any shape (taken flat); at least one value.
    pcts : sequence of float
        Percentiles, 0-100.

    Returns
    -------
    ndarray
        float64, one per percentile.
    """
    return histogram_percentiles(uint8_histogram(values), pcts)  # (TypeError for other types, ValueError for none)


def uint8_histogram(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """How many of ``values`` (uint8, any shape) take each of the 256 levels (int64), counting only where
    ``mask`` (bool, of ``values``' shape) is set when one is given: ``np.bincount(values[mask], minlength=256)``
    without the copy of the values picked."""
    values = np.asarray(values)
    if values.dtype != np.uint8:
        raise TypeError(f"uint8 values expected, got {values.dtype}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != values.shape:
            raise ValueError(f"mask of shape {mask.shape} for values of shape {values.shape}")
        mask = mask if mask.dtype == bool else mask != 0  # a 0/1 or 0/255 mask: where it is set
    if values.size < 1 << 24:  # OpenCV's histogram is 10 times numpy's bincount, and its float32 counts exact here
        flat = np.ascontiguousarray(values.reshape(1, -1))
        m = None if mask is None else np.ascontiguousarray(mask.reshape(1, -1)).view(np.uint8)
        return cv2.calcHist([flat], [0], m, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(values.ravel() if mask is None else values[mask], minlength=256)


def histogram_percentiles(counts: np.ndarray, pcts: Sequence[float], dtype: type = np.float64) -> np.ndarray:
    """``np.percentile`` of integer samples given as a histogram (index = value; at least one sample), as numpy
    computes it for samples of ``dtype``: float64 for integers, float32 for float32 samples (its interpolation
    is then done in float32).

    >>> histogram_percentiles(np.array([2, 0, 3]), [0, 50, 75]).tolist()  # samples 0, 0, 2, 2, 2
    [0.0, 2.0, 2.0]
    """
    counts = np.asarray(counts)
    n = int(counts.sum())
    if n <= 0:
        raise ValueError("no values")
    q = np.asarray(pcts, np.float64) / 100.0
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo = prev.astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    lo = np.minimum(lo, n - 1)
    return _lerp(histogram_rank_value(counts, lo).astype(dtype), histogram_rank_value(counts, hi).astype(dtype), gamma)


def histogram_rank_value(counts: np.ndarray, rank: np.ndarray | int) -> np.ndarray:
    """The value of the sample(s) of 0-based ``rank`` (from the smallest) among integer samples given as a
    histogram whose index is the value: the first value whose cumulative count exceeds the rank.

    >>> int(histogram_rank_value(np.array([2, 0, 3]), 2))  # samples 0, 0, 2, 2, 2
    2
    """
    return np.searchsorted(np.cumsum(counts), rank, side="right")


def uint8_channel_medians(pixels: np.ndarray) -> np.ndarray:
    """``np.median(pixels, axis=0)`` for an (n, c) uint8 array of pixels: each channel's median, float64."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise TypeError(f"(n, c) uint8 pixels expected, got {pixels.dtype} {pixels.shape}")
    return np.array([uint8_percentiles(pixels[:, c], [50.0])[0] for c in range(pixels.shape[1])])

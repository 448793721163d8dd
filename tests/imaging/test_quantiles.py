"""The fast percentiles give numpy's numbers to the bit (hairtrack.imaging.quantiles)."""

import numpy as np
import pytest

from hairtrack.imaging.quantiles import (
    histogram_percentiles, nan_row_medians, nan_row_percentiles, uint8_channel_medians, uint8_histogram,
    uint8_percentiles,
)


def _rows_with_gaps(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    x = rng.normal(3.0, 2.0, (n, k))
    x[rng.random((n, k)) < rng.uniform(0.0, 0.9)] = np.nan
    x[:, 0] = np.where(np.isnan(x).all(axis=1), 1.5, x[:, 0])  # a number in every row
    tied = rng.random(n) < 0.3
    x[tied] = np.round(x[tied])  # rows with equal values
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # the shafts' widths are float32
@pytest.mark.parametrize("seed", range(20))
def test_row_percentiles_and_medians_are_numpys(seed, dtype):
    rng = np.random.default_rng(seed)
    x = _rows_with_gaps(rng, int(rng.integers(1, 60)), int(rng.integers(1, 30))).astype(dtype)
    for pct in (0.0, 10.0, 35.0, 50.0, 62.5, 99.0, 100.0):
        got, want = nan_row_percentiles(x, pct), np.nanpercentile(x, pct, axis=1)
        assert got.dtype == want.dtype and np.array_equal(got, want), pct
    got, want = nan_row_medians(x), np.nanmedian(x, axis=1)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_float32_rows_are_interpolated_in_float32_as_numpy_does():
    """A review's case: float64 arithmetic on float32 values gave 1.48500003 where numpy gives 1.485 (float32)."""
    x = np.array([[1.1, 2.2, np.nan]], np.float32)
    assert nan_row_percentiles(x, 35.0)[0] == np.nanpercentile(x, 35.0, axis=1)[0]
    assert nan_row_percentiles(x, 35.0).dtype == np.float32


def test_rows_without_a_number_are_refused_and_empty_input_is_empty():
    with pytest.raises(ValueError):
        nan_row_percentiles(np.array([[np.nan, np.nan]]), 50)
    with pytest.raises(ValueError):
        nan_row_medians(np.array([[1.0], [np.nan]]))
    assert nan_row_percentiles(np.zeros((0, 4)), 35).shape == (0,)
    assert nan_row_medians(np.zeros((0, 4))).shape == (0,)


@pytest.mark.parametrize("seed", range(10))
def test_uint8_percentiles_are_numpys(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    lo, hi = sorted(rng.integers(0, 256, 2))
    values = rng.integers(lo, hi + 1, n).astype(np.uint8)
    pcts = [0.0, 0.1, 1.0, 2.0, 25.0, 50.0, 75.0, 98.0, 99.0, 99.9, 100.0]
    assert np.array_equal(uint8_percentiles(values, pcts), np.percentile(values, pcts))
    assert uint8_percentiles(values, [50.0])[0] == np.median(values)
    pixels = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    assert np.array_equal(uint8_channel_medians(pixels), np.median(pixels, axis=0))


def test_uint8_percentiles_refuse_other_types_and_nothing():
    with pytest.raises(TypeError):
        uint8_percentiles(np.array([1.0, 2.0]), [50])
    with pytest.raises(ValueError):
        uint8_percentiles(np.zeros(0, np.uint8), [50])


@pytest.mark.parametrize("seed", range(10))
def test_masked_histograms_and_their_percentiles_are_numpys(seed):
    """The quality's figures read the field's pixels through a mask, and the ring cue's chroma (whole numbers
    held as float32) through float32 percentiles."""
    rng = np.random.default_rng(100 + seed)
    h, w = (int(v) for v in rng.integers(1, 90, 2))
    lo, hi = sorted(rng.integers(0, 256, 2))
    image = rng.integers(lo, hi + 1, (h, w)).astype(np.uint8)
    mask = rng.random((h, w)) < rng.uniform(0.05, 1.0)
    mask.flat[int(rng.integers(0, h * w))] = True  # one value at least
    counts = uint8_histogram(image, mask)
    assert counts.dtype == np.int64 and np.array_equal(counts, np.bincount(image[mask], minlength=256))
    pcts = [0.0, 0.1, 2.0, 35.0, 50.0, 98.0, 99.9, 100.0]
    assert np.array_equal(histogram_percentiles(counts, pcts), np.percentile(image[mask], pcts))
    as_float = image[mask].astype(np.float32)
    got = histogram_percentiles(counts, pcts, np.float32)
    for pct, value in zip(pcts, got):  # one scalar percentile at a time, as the code asks (a list is float64)
        want = np.percentile(as_float, pct)
        assert value.dtype == want.dtype == np.float32 and value == want, pct
    assert np.array_equal(uint8_histogram(image), np.bincount(image.ravel(), minlength=256))


def test_histograms_refuse_a_mask_of_another_shape_and_no_samples():
    with pytest.raises(ValueError):
        uint8_histogram(np.zeros((4, 4), np.uint8), np.ones((4, 5), bool))
    with pytest.raises(TypeError):
        uint8_histogram(np.zeros(3, np.float32))
    with pytest.raises(ValueError):
        histogram_percentiles(np.zeros(256, np.int64), [50])


def test_histograms_take_a_0_1_or_0_255_mask_as_where_it_is_set_and_medians_any_channels():
    values = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for mask in (values % 2 == 0, (values % 2 == 0).astype(np.uint8), (values % 2 == 0).astype(np.int64) * 255):
        assert np.array_equal(uint8_histogram(values, mask), np.bincount(values[values % 2 == 0], minlength=256))
    rng = np.random.default_rng(7)
    for shape in ((9, 1), (9, 4), (9, 129), (5, 0)):  # OpenCV's histogram for a few channels, numpy's past them
        pixels = rng.integers(0, 256, shape).astype(np.uint8)
        assert np.array_equal(uint8_channel_medians(pixels), np.median(pixels, axis=0)), shape

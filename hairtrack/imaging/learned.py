"""Hair shafts found by a small learned detector, trained on synthetic scalps only.

The network (``models/hair_centernet.onnx``, 0.8 MB in float; training in ``scripts/train_hair_detector.py``,
card in ``docs/hair_detector_card.md``) is CenterNet-style (Zhou, Wang & Kraehenbuehl 2019, "Objects as
Points"): from the photo at 179 px/mm (half of a 70x dermoscope's 1280 x 1024 frame) it predicts a
heatmap of hair midpoints every 4 input pixels and, at each midpoint, the shaft's direction as
``(cos 2θ, sin 2θ)`` and ``log(length / 32 px)``. Its weights were fitted to images from
:func:`hairtrack.synth.render_scalp` (``varied=True``) only, never to real photos.

Two networks of that design are averaged (:func:`predict_maps`): the main one on the photo and a copy
fine-tuned on scenes with loose broken hairs and black dots (``models/hair_centernet_fragments.onnx``)
on its mirror image; the pair finds the real ``abnormal`` hairs the main network misses, at the cost of
the test-time flip it replaces (up to 2 M input pixels, where the flip ran before). Both run with 8-bit
weights and activations (``*_int8.onnx``, 0.23 MB each, made by ``scripts/quantize_hair_detector.py`` with
activation ranges measured on synthetic scenes only): on this project's x86 machine with VNNI instructions
a pass takes 10 ms instead of 22 on one core (``benchmarks/inference.py``), and the pair counts like the float one (older x86 processors
gain less).

Decoding: peaks of the heatmap (3 x 3 non-maximum suppression) above ``threshold`` inside the usable
field (:func:`hairtrack.imaging.quality.scan_field`) are hairs; each midpoint is refined to the
heatmap-weighted centroid of its 3 x 3 window; a peak with no dark shaft across the predicted direction
(zero width) is dropped. Two gates use the image as a second opinion on the heatmap
(:func:`_gate_peaks`): a weaker peak (down to 0.8 x ``threshold``) is a hair too when the shaft under
it is as dark as the photo's confident hairs, and a peak near the frame (within 24 input px, 0.22 mm)
must be confident (0.5) to count. Last, a weaker peak lying on a stronger peak's shaft (same direction,
within 0.6 of its predicted length along it and 8 input px across it; :func:`_shaft_nms`) is dropped,
since the heatmap responds along much of a shaft, not only at its midpoint. Width and contrast are measured from the image as the
classical pipeline does (:mod:`hairtrack.imaging.hairs`: the integral of relative darkness across the
shaft over its peak), along the predicted direction. Inference runs in onnxruntime (on one core a fifth
faster than OpenCV's DNN module with the same weights and outputs; ``benchmarks/inference.py``); no training framework is needed.
"""

from __future__ import annotations

import math
import os
import threading
from functools import cache, lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from scipy.spatial import cKDTree

from hairtrack.errors import InputError
from hairtrack.imaging.hairs import (DERMOSCOPE_70X_PX_PER_MM, Hair, _contrast_window_px, _darkness, _lobe_stats,
                                     _profile_widths, check_px_per_mm)
from hairtrack.imaging.quality import ScanField, as_rgb_uint8, mask_bytes, scan_field, value_span
from hairtrack.imaging.quantiles import uint8_channel_medians

__all__ = ["detect_hairs_learned", "model_from_paths", "set_threads", "MODEL_PATH", "FRAGMENT_MODEL_PATH", "FLOAT_MODELS",
           "DEFAULT_MODELS", "DEFAULT_THRESHOLD"]

MODEL_PATH = Path(__file__).resolve().parent / "models" / "hair_centernet.onnx"
# The same network fine-tuned on scenes with loose fragments and black dots (run i of the model card): it
# sees the photo's mirror image, and its maps are averaged with the main network's.
FRAGMENT_MODEL_PATH = MODEL_PATH.with_name("hair_centernet_fragments.onnx")
FLOAT_MODELS = (MODEL_PATH, FRAGMENT_MODEL_PATH)
# The default: the same pair with 8-bit weights and activations (scripts/quantize_hair_detector.py,
# activation ranges from synthetic scenes only). On one core each pass takes 10 ms instead of 22, and on the
# dev set's tune fold it counts like the float pair (MAE 2.06 against 2.04, F1 0.811 against 0.816;
# docs/hair_detector_card.md, ninth session).
DEFAULT_MODELS = (MODEL_PATH.with_name("hair_centernet_int8.onnx"),
                  MODEL_PATH.with_name("hair_centernet_fragments_int8.onnx"))
DEFAULT_THRESHOLD = 0.30  # chosen on the tune fold of the dev set (benchmarks/trichoscopy.py --thresholds)
# The scale a photo is read at. The network was trained on renders reduced to 110 px/mm, but every threshold and
# gate was chosen on real 70x photos brought to 640 px wide, and those are at 358 px/mm (the 1.0 mm scale bar
# that 144 of the dev photos carry is 358 px long, benchmarks/scale_bar.py; their frames then hold 117 hairs/cm²
# at the median, against 44 at the 220 px/mm once assumed): 179 px/mm at the input. Read at 110 px/mm instead, the
# same photos at their true scale counted far worse (tune fold, 200 photos: MAE 3.34 against 2.06, F1 0.756
# against 0.811; 2.73 at best with any threshold), so a person who calibrated their dermoscope got counts worse
# than guessing the median. The network has a prior on a shaft's length in its input: real shafts clipped for
# trichoscopy (0.22-0.68 mm) are 40-120 px long at 179 px/mm, as the training scenes' were at 110. Renders of
# such shafts read better at 179 too (per-image count error 12-23% against 21-42% at 110); shafts grown to
# 0.6-1.6 mm read worse (docs/hair_detector_card.md, 21st session).
_INPUT_PX_PER_MM = DERMOSCOPE_70X_PX_PER_MM / 2
_LEN_REF_PX = 32.0
# A photo is enlarged at most this much: under 179 / 2 px/mm (a phone macro) the network sees its shafts smaller
# than it was trained on, and its predicted lengths say little (reads_at_network_scale).
_MAX_ENLARGEMENT = 2.0
_MULTIPLE = 16  # the encoder halves four times
# Both networks up to this many input pixels (a 70x photo has 0.33 M, a 12 MP photo at 358 px/mm 3 M);
# above it the main network alone, so a huge input does not cost two passes. (The flip alone stopped at
# 2 M; between 2 and 4 M the second pass is new.)
_PAIR_MAX_INPUT_PX = 4_000_000
# Inputs over this many pixels run tile by tile (_tiled_maps), so that memory stays bounded (a 12 MP photo at
# 179 px/mm, 12 M input pixels, still runs in one pass): no pass over more pixels than this, margins included,
# each tile run with this much of the photo around it (input px, a multiple of 16). The network reaches between
# 128 and 192 px: with 192 the tiled maps equal one pass's exactly (float and 8-bit;
# tests/imaging/test_learned.py).
_TILE_MIN_INPUT_PX = 16_000_000
# Beyond this many input pixels (20 cm² at 179 px/mm) a photo is no close-up and is refused: a 64 MP photo
# at 90 px/mm would be 256 M pixels at the network's scale (about 7 GB, tiles or not).
_MAX_INPUT_PX = 64_000_000
_TILE_MARGIN_PX = 192
# shaft-aware peak suppression (_shaft_nms), chosen on the tune fold of the dev set
_NMS_ALONG = 0.6  # fraction of the stronger peak's predicted length, along its direction
_NMS_PERP_PX = 8.0  # input px (16 px of a 1280 x 1024 photo at 358 px/mm) across it
_NMS_ANGLE_DEG = 25.0  # only peaks of nearly the same direction
# image gates on the peaks (_gate_peaks), chosen on the tune fold of the dev set
_WEAK_FRACTION = 0.8  # weak peaks reach down to this fraction of the threshold (0.24) ...
_WEAK_CONTRAST = 0.9  # ... and count when their shaft is this dark relative to the confident ones'
_EDGE_INPUT_PX = 24.0  # near the frame (0.13 mm at 179 px/mm) ...
_EDGE_HEAT = 0.5  # ... a peak counts only from this heat up
_GATE_SPAN = 0.3  # the gates read a peak's shaft from -0.3 to +0.3 of its length (they were tuned so) ...
_WIDTH_SPAN = 0.45  # ... a kept shaft's reported width from -0.45 to +0.45 (_shaft_widths), the 35th percentile
_WIDTH_PCT = 35.0  # of its profiles' widths: a neighbour a profile crosses only adds width
_CENTRE_PX = 4  # ... its profiles moved to the nearest peak of their mean, up to 4 input px (22 um at 179 px/mm)
_LONE_GAP_PX = 16.0  # a shaft no other found shaft comes within 16 input px of (89 um at 179 px/mm) is lone, and
_LONE_MIN = 8  # the photo's blur is read from its lone shafts alone when 8 or more of them can show it
_PARTED_RATIO = 1.3  # a shaft whose end profiles read 1.3x apart takes the narrower end's width (_shaft_widths)


# One session per model file: resolved path -> ((mtime, size, threads), session). A changed file or thread
# count replaces the session instead of adding one, so the cache stays as small as the set of models used.
_SESSIONS: dict[str, tuple[tuple[int, int, int], "ort.InferenceSession"]] = {}
_SESSIONS_LOCK = threading.Lock()
_THREADS: int | None = None  # set_threads(); None: OpenCV's own count
# Sessions inherited by a forked child: their thread pools did not come along, and freeing one there would
# join threads that do not exist (a crash). The child keeps them unused and makes its own.
_INHERITED: list = []


def _forget_sessions_after_fork() -> None:
    _INHERITED.extend(_SESSIONS.values())
    _SESSIONS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_sessions_after_fork)


# Median over 60 training renders (scripts/train_hair_detector.py, seeds 0-3599 step 60, at the network's
# input scale) of each render's channel medians; real 70x dev photos sit near (143, 143, 149).
_TRAIN_MEDIAN_RGB = np.array([175.0, 168.0, 171.5], np.float32)


def _load_net(path: str) -> "ort.InferenceSession":
    """An onnxruntime session for the model at ``path``, made on first use and kept while the file and the
    thread count stay the same.

    Its threads are those of :func:`set_threads` (OpenCV's count until it is called), so ``--jobs`` workers
    and the one-thread benchmarks do not oversubscribe the cores. Its threads do not spin-wait for more
    work after a run: spinning kept a core busy after each pass and, with another process busy, slowed both
    the pass and the image code that follows (``benchmarks/inference.py --threads 2 --busy 1``: 14.2 -> 7.7 ms
    a pass, the next step 7.9 -> 3.9 ms). A session's ``run`` is
    safe to call from several threads at once (the web app analyses two photos at a time), so threads share it.
    """
    file = Path(path)
    try:
        file = file.resolve(strict=True)
        st = file.stat()
    except OSError:
        raise InputError(f"hair detector model not found at {path}; reinstall hairtrack or use "
                         "detector='classical'") from None
    threads = _THREADS if _THREADS is not None else max(1, cv2.getNumThreads())
    stamp = (st.st_mtime_ns, st.st_size, threads)
    with _SESSIONS_LOCK:
        cached = _SESSIONS.get(str(file))
        if cached is None or cached[0] != stamp:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
            opts.log_severity_level = 3  # warnings about unused initialisers are not the user's concern
            try:
                session = ort.InferenceSession(str(file), opts, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own types for a corrupt or foreign file
                raise InputError(f"hair detector model at {path} cannot be loaded: {exc}") from exc
            cached = _SESSIONS[str(file)] = (stamp, session)
        return cached[1]


def set_threads(threads: int) -> None:
    """Use at most ``threads`` threads for the image code of this process: OpenCV's and the detector's.

    The detector keeps its own count rather than asking OpenCV, whose count is fixed on macOS (its GCD
    backend ignores ``cv2.setNumThreads``).

    Parameters
    ----------
    threads : int
        At least 1. A session made for another count is replaced on its next use.
    """
    global _THREADS
    if threads < 1:
        raise InputError(f"threads must be at least 1, got {threads}")
    _THREADS = int(threads)
    cv2.setNumThreads(int(threads))


def _run_net(path: str, blob: np.ndarray) -> np.ndarray:
    """The maps (C, H/s, W/s) of the model at ``path`` on one input blob (1, 3, H, W) float32.

    A model that loads but cannot take the input (another input size or layout) raises InputError naming it.
    """
    session = _load_net(path)
    try:
        return session.run(None, {session.get_inputs()[0].name: blob})[0][0]
    except MemoryError:
        raise
    except Exception as exc:  # onnxruntime's InvalidArgument, Fail, ...
        raise InputError(f"hair detector model at {path} cannot run on a {blob.shape[3]} x {blob.shape[2]} "
                         f"input: {exc}") from exc


def reads_at_network_scale(px_per_mm: float) -> bool:
    """Whether a photo at ``px_per_mm`` reaches the network's 179 px/mm (it is enlarged at most twice), so that
    the shafts' lengths the network predicts for it are measured ones, not guesses at shafts far smaller than
    any it was trained on."""
    return px_per_mm * _MAX_ENLARGEMENT >= _INPUT_PX_PER_MM


def _input_scale(h: int, w: int, ppm: float | None) -> float:
    """Factor from the photo to the network's input: to 179 px/mm, or a 640-px long side without a scale."""
    if ppm is not None:
        return float(np.clip(_INPUT_PX_PER_MM / ppm, 0.05, _MAX_ENLARGEMENT))
    return min(1.0, 640.0 / max(h, w))  # a 70x dermoscope at 1280 px wide is about 358 px/mm


def normalize_exposure(rgb: np.ndarray) -> np.ndarray:
    """The photo with each channel scaled so that its median matches the training renders' (float32).

    Exposure and white balance differ from photo to photo and from device to device; the network saw the
    spread of its synthetic renders, whose channel medians centre on ``_TRAIN_MEDIAN_RGB``. Scaling a photo
    to that centre (gain 0.5-2) made the learned count steadier under relighting and lowered the count
    error on the real dev set's tune fold (MAE 2.77 -> 2.56, F1 0.755 -> 0.769; docs/hair_detector_card.md).
    """
    return _exposed(rgb, _exposure_gain(rgb))


def _exposed(rgb: np.ndarray, gain: np.ndarray) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * gain, 0.0, 255.0)


def _exposure_gain(rgb: np.ndarray) -> np.ndarray:
    """Per-channel gain of :func:`normalize_exposure` (float32, 3)."""
    pixels = rgb[::4, ::4].reshape(-1, 3)
    med = (uint8_channel_medians(pixels) if pixels.dtype == np.uint8 else np.median(pixels, axis=0)).astype(np.float32)
    return np.clip(_TRAIN_MEDIAN_RGB / np.maximum(med, 1.0), 0.5, 2.0)


def _model_pair(model_path: Path | str | tuple | None) -> tuple[str, str]:
    """The networks of the first and second (mirrored) pass: the shipped 8-bit pair by default, one network
    twice when ``model_path`` is a single model, or the two of a pair."""
    if model_path is None:
        return str(DEFAULT_MODELS[0]), str(DEFAULT_MODELS[1])
    if isinstance(model_path, (tuple, list)):
        if len(model_path) != 2:
            raise InputError(f"model_path takes one model or a pair, got {len(model_path)}")
        return str(model_path[0]), str(model_path[1])
    return str(model_path), str(model_path)


def model_from_paths(paths: list[Path] | None) -> Path | tuple[Path, Path] | None:
    """``model_path`` for :func:`detect_hairs_learned` from a command line's files: None (the shipped pair), one
    network (run on the photo and its mirror image) or a pair. Raises InputError for more than two or a file
    that is not there."""
    if paths is None:
        return None
    if not 1 <= len(paths) <= 2:
        raise InputError("--model takes one ONNX file or a pair")
    for path in paths:
        if not Path(path).is_file():
            raise InputError(f"--model: no such file: {path}")
    return Path(paths[0]) if len(paths) == 1 else (Path(paths[0]), Path(paths[1]))


def network_input(rgb: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo resized by ``scale`` and the networks' input made from it.

    Parameters
    ----------
    rgb : ndarray
        (H, W, 3) uint8 photo.
    scale : float
        Factor to the network's scale (:func:`_input_scale`).

    Returns
    -------
    work : ndarray
        The resized photo (uint8), the frame the maps refer to.
    blob : ndarray
        (1, 3, H', W') float32: ``work`` padded by reflection to a multiple of 16 and exposure-normalised
        (:func:`normalize_exposure`).
    """
    work, padded = _resized_padded(rgb, scale)
    return work, _blob(padded, _exposure_gain(padded))


def _resized_padded(rgb: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo resized by ``scale`` (uint8), and the same padded by reflection to a multiple of 16."""
    h, w = rgb.shape[:2]
    size = (max(int(round(w * scale)), _MULTIPLE), max(int(round(h * scale)), _MULTIPLE))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    work = cv2.resize(rgb, size, interpolation=interp) if scale != 1 else rgb
    ph = (-work.shape[0]) % _MULTIPLE
    pw = (-work.shape[1]) % _MULTIPLE
    return work, (cv2.copyMakeBorder(work, 0, ph, 0, pw, cv2.BORDER_REFLECT) if ph or pw else work)


def _blob(padded: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """The networks' input (1, 3, H, W) float32 from (part of) the padded photo and its exposure gain.

    The values are :func:`_exposed`'s to the bit, read from a 256-entry table per channel straight into the
    channel-first array: a 12 MP photo at 110 px/mm is 32 M input pixels, and converting, scaling, clipping and
    transposing them in numpy took 0.38 s of its 1.44 s.
    """
    h, w = padded.shape[:2]
    table = _exposed(np.arange(256, dtype=np.uint8)[:, None], gain)  # (256, 3): the same float32 arithmetic
    blob = np.empty((1, 3, h, w), np.float32)
    for c, plane in enumerate(cv2.split(padded)):
        blob[0, c] = cv2.LUT(plane, table[:, c].copy())
    return blob


def _mirrored(blob: np.ndarray) -> np.ndarray:
    """``blob`` (1, C, H, W) float32 mirrored left to right, a new array: OpenCV's flip of each plane, at
    two thirds of the time of numpy's copy of the reversed view."""
    out = np.empty_like(blob)
    for c in range(blob.shape[1]):
        cv2.flip(blob[0, c], 1, dst=out[0, c])
    return out


def _tile_grid(h: int, w: int, budget_px: int | None = None) -> tuple[list[int], list[int]]:
    """Where the tiles of an ``h`` x ``w`` input start, rows and columns (multiples of ``_MULTIPLE``).

    Each tile is run with ``_TILE_MARGIN_PX`` around it, so every seam is computed twice over. The grid cuts
    each side evenly, with no pass (margins included) over ``budget_px`` (``_TILE_MIN_INPUT_PX``, the largest
    input that already runs in one pass, so no photo needs more memory than such an input did): for each number
    of rows, the fewest columns that fit, and of those grids the one that runs the fewest pixels. (Uneven cuts
    can run a little less: 1.2% less for 4784 x 6032, by a review's exhaustive search.) A budget under one
    16-px block with its margins cannot be kept: the grid is then of 16-px tiles.
    Squares of 2048 px ran 36% more pixels than the input of a 12 MP photo at 110 px/mm (6528 x 4896 at the
    network's scale); its three strips run 12% more.
    """
    budget = _TILE_MIN_INPUT_PX if budget_px is None else budget_px
    m = _TILE_MARGIN_PX

    def cut(length: int, n: int) -> int | None:  # the side of n tiles over length, in whole blocks
        side = -(-length // n)  # ceil
        side = -(-side // _MULTIPLE) * _MULTIPLE
        return side if side * (n - 1) < length else None  # None: the last tile would be empty

    def run(length: int, side: int) -> int:  # pixels run along one axis, margins included
        return sum(min(a + side + m, length) - max(a - m, 0) for a in range(0, length, side))

    best: tuple[tuple[int, int], int, int] | None = None
    for ny in range(1, -(-h // _MULTIPLE) + 1):
        th = cut(h, ny)
        if th is None:
            continue
        rows = run(h, th)
        if best is not None and rows * w >= best[0][0]:
            break  # more rows of tiles only add seams
        tile_h = min(th + 2 * m, h)
        for nx in range(1, -(-w // _MULTIPLE) + 1):  # the fewest columns that fit: more only add seams
            tw = cut(w, nx)
            if tw is not None and tile_h * min(tw + 2 * m, w) <= budget:
                cost = (rows * run(w, tw), ny * nx)
                if best is None or cost < best[0]:
                    best = (cost, th, tw)
                break
    th, tw = (best[1], best[2]) if best is not None else (_MULTIPLE, _MULTIPLE)  # (no budget fits: the least)
    return list(range(0, h, th)), list(range(0, w, tw))


def _tiled_maps(path: str, padded: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """The maps of one network over a large input, tile by tile, so that its memory stays that of a pass over
    ``_TILE_MIN_INPUT_PX`` pixels whatever the photo (a 48 MP photo at 70 px/mm took 6.7 GB in one pass).

    Each tile is run with ``_TILE_MARGIN_PX`` of the photo around it, more than the network's reach, and only
    its middle is kept: the maps are those of one pass over the whole input. The tiles are those of
    :func:`_tile_grid`.
    """
    h, w = padded.shape[:2]
    row_starts, col_starts = _tile_grid(h, w)
    row_ends, col_ends = row_starts[1:] + [h], col_starts[1:] + [w]
    full: np.ndarray | None = None
    for y0, y1 in zip(row_starts, row_ends):
        for x0, x1 in zip(col_starts, col_ends):
            ya, xa = max(y0 - _TILE_MARGIN_PX, 0), max(x0 - _TILE_MARGIN_PX, 0)
            yb, xb = min(y1 + _TILE_MARGIN_PX, h), min(x1 + _TILE_MARGIN_PX, w)
            maps = _run_net(path, _blob(padded[ya:yb, xa:xb], gain))
            stride = (yb - ya) // maps.shape[1]
            if full is None:
                full = np.empty((maps.shape[0], h // stride, w // stride), np.float32)
            full[:, y0 // stride:y1 // stride, x0 // stride:x1 // stride] = maps[
                :, (y0 - ya) // stride:(y1 - ya) // stride, (x0 - xa) // stride:(x1 - xa) // stride]
    assert full is not None
    return full


def predict_maps(rgb: np.ndarray, scale: float, *,
                 model_path: Path | str | tuple | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The network's input image (at ``scale``), its output maps (4, H/s, W/s) over that input, and s.

    The input is exposure-normalised (:func:`normalize_exposure`). Two passes are averaged: the main
    network on the photo and the fragment network on its mirror image, mirrored back (by default the 8-bit
    pair ``DEFAULT_MODELS``; ``FLOAT_MODELS`` are the float networks they were made from). The pair counts like the main network alone on the dev set's tune fold and finds
    the broken hairs and black dots it misses (abnormal recall 0.37 -> 0.63; docs/hair_detector_card.md,
    fifth session); the mirror keeps the cost of the test-time flip it replaces. ``model_path`` may name one
    model (run on the photo and its mirror image: the flip alone) or a pair. Inputs over
    ``_PAIR_MAX_INPUT_PX`` get the first pass only, and over ``_TILE_MIN_INPUT_PX`` it runs tile by tile
    (:func:`_tiled_maps`), with the same maps.

    The output stride ``s`` (input px per output cell) is read from the model's output size, so a model
    of another stride with the same outputs can be passed.
    """
    work, padded = _resized_padded(rgb, scale)
    gain = _exposure_gain(padded)
    first, second = _model_pair(model_path)
    if padded.shape[0] * padded.shape[1] > _TILE_MIN_INPUT_PX:  # the first network alone, tile by tile
        maps = _tiled_maps(first, padded, gain)
        stride = padded.shape[0] // maps.shape[1]
    else:
        blob = _blob(padded, gain)
        maps = _run_net(first, blob)
        stride = blob.shape[2] // maps.shape[1]
        if blob.shape[2] * blob.shape[3] <= _PAIR_MAX_INPUT_PX:
            # The second pass sees the mirror image; its maps are mirrored back (a mirrored shaft's sin 2θ
            # changes sign) and averaged in. With one network this is a test-time flip (tune fold: MAE
            # 2.56 -> 2.45); two networks trained apart also differ in their errors.
            mirrored = _run_net(second, _mirrored(blob))[..., ::-1].copy()
            if mirrored.shape != maps.shape:
                raise InputError(f"the two hair detector models differ in their outputs: {first}, {second}")
            mirrored[2] *= -1.0
            maps = 0.5 * (maps + mirrored)
    gh, gw = -(-work.shape[0] // stride), -(-work.shape[1] // stride)
    return work, maps[:, :gh, :gw], stride


def _shaft_nms(recs: list, along: float | None = None, perp_px: float | None = None,
               angle_deg: float | None = None) -> list:
    """Keep one peak per shaft: drop a weaker peak lying on a stronger one's shaft.

    The heatmap of this under-trained network responds along much of a shaft, not only at its midpoint,
    so a long hair can give several 3 x 3 peaks. A peak is dropped when a stronger kept peak of nearly the
    same direction (within ``angle_deg``) lies within ``along`` x its predicted length along that
    direction and within ``perp_px`` input pixels across it. Records are the tuples built in
    :func:`detect_hairs_learned` (row, col, theta, length, axis, width, contrast, score), all in input px.
    """
    along = _NMS_ALONG if along is None else along
    perp_px = _NMS_PERP_PX if perp_px is None else perp_px
    angle_deg = _NMS_ANGLE_DEG if angle_deg is None else angle_deg
    if along <= 0 or len(recs) < 2:
        return recs
    order = sorted(range(len(recs)), key=lambda i: -recs[i][7])
    kept: list[int] = []
    max_da = math.radians(angle_deg)
    # Kept peaks in a grid of cells as wide as the farthest reach, so each peak meets only its neighbours
    # (a 12 MP photo has thousands of peaks).
    cell = max(max(along * rec[3] for rec in recs) + perp_px, 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    for i in order:
        r, c, th = recs[i][0], recs[i][1], recs[i][2]
        gr, gc = int(r // cell), int(c // cell)
        drop = False
        near = [j for dr in (-1, 0, 1) for dc in (-1, 0, 1) for j in grid.get((gr + dr, gc + dc), ())]
        for j in near:
            rj, cj, thj, lj, axj = recs[j][0], recs[j][1], recs[j][2], recs[j][3], recs[j][4]
            da = abs((th - thj + math.pi / 2) % math.pi - math.pi / 2)
            if da > max_da:
                continue
            v = (r - rj, c - cj)
            t = v[0] * axj[0] + v[1] * axj[1]
            q = abs(v[0] * axj[1] - v[1] * axj[0])
            if abs(t) <= along * lj and q <= perp_px:
                drop = True
                break
        if not drop:
            kept.append(i)
            grid.setdefault((gr, gc), []).append(i)
    return [recs[i] for i in sorted(kept)]


def _gate_peaks(recs: list, threshold: float, shape: tuple[int, int]) -> list:
    """The peaks that are hairs: confident ones, and weaker ones the image confirms, away from the frame.

    Records are the tuples built in :func:`detect_hairs_learned` (row, col, theta, length, axis, width,
    contrast, score) in input px, found down to ``_WEAK_FRACTION * threshold``.

    - A peak below ``threshold`` counts when its shaft's darkness contrast reaches ``_WEAK_CONTRAST`` times
      the median of the confident peaks' (of all peaks when fewer than 3 are confident). On the dev set's
      tune fold, the detections below the threshold that matched a labelled hair were told from the rest
      better by this contrast (ROC AUC 0.78) than by their heat (0.66); the missed hairs were mostly shafts
      of multi-hair units whose peaks the network left weak.
    - A peak within ``_EDGE_INPUT_PX`` of the frame counts only from a heat of ``_EDGE_HEAT``: among the
      confident detections, distance to the frame told matches from the rest better than anything else
      (AUC 0.77). Shafts cut by the frame, whose root may lie outside it, give most of them; a hair whose
      follicle lies outside the field does not belong to the field's density.
    """
    if not recs:
        return recs
    strong = [rec[6] for rec in recs if rec[7] >= threshold]
    ref_c = float(np.median(strong if len(strong) >= 3 else [rec[6] for rec in recs]))
    edge_heat = max(_EDGE_HEAT, threshold)
    h, w = shape
    out = []
    for rec in recs:
        r, c, score = rec[0], rec[1], rec[7]
        if score < _WEAK_FRACTION * threshold or (score < threshold and rec[6] < _WEAK_CONTRAST * ref_c):
            continue
        if min(r, c, h - 1 - r, w - 1 - c) < _EDGE_INPUT_PX and score < edge_heat:
            continue
        out.append(rec)
    return out


def _shaft_widths(d: np.ndarray, recs: list, span: float = _WIDTH_SPAN, width_pct: float = 50.0, *,
                  edges: bool = False, centre_px: int = 0, parted_ratio: float = 0.0) -> np.ndarray:
    """Width (input px), contrast and, with ``edges``, edge width (px) of found shafts, one row each
    (:func:`hairtrack.imaging.hairs._profile_widths`, whose ``centre_px`` moves a shaft's profiles to the nearest
    peak of their mean and whose ``parted_ratio`` reads a unit's shaft where it has parted from its neighbour),
    from 9 profiles across each, from -``span`` to +``span`` of its predicted length about
    its midpoint (clipped to the frame). ``recs`` are the records built in :func:`detect_hairs_learned` (row,
    col, theta, length, axis, ...), in input px."""
    if not recs:
        return np.zeros((0, 3))
    mids = np.array([rec[:2] for rec in recs], np.float64)
    lengths = np.array([rec[3] for rec in recs], np.float64)
    axes = np.array([rec[4] for rec in recs], np.float64)
    t = np.linspace(-span, span, 9)[None, :, None] * lengths[:, None, None]
    pts = mids[:, None, :] + t * axes[:, None, :]  # (n, 9, 2)
    pts[..., 0] = np.clip(pts[..., 0], 0, d.shape[0] - 1)
    pts[..., 1] = np.clip(pts[..., 1], 0, d.shape[1] - 1)
    return _profile_widths(d, pts, axes, width_pct, edges=edges, centre_px=centre_px, parted_ratio=parted_ratio)


_BLUR_SIGMAS_PX = np.linspace(0.3, 4.0, 38)  # the photo's blur (Gaussian sigma, input px) the tables cover
_BOX_WIDTHS_PX = np.linspace(0.2, 28.0, 140)
_PLATEAU_PX = 8.0  # shafts at least this wide (45 um at 179 px/mm) show mostly the blur at their edges
_BLUR_MAX_READ_PX = 16.0  # ... up to this wide, before the 29-px profile cuts their edges (_photo_blur_px)


@cache
def _blur_tables() -> tuple[np.ndarray, np.ndarray]:
    """What :func:`hairtrack.imaging.hairs._lobe_stats` reads off a box of darkness blurred by a Gaussian,
    sampled 1 px apart at 9 sub-pixel offsets, for each sigma of ``_BLUR_SIGMAS_PX`` and each box width of
    ``_BOX_WIDTHS_PX``.

    Returns
    -------
    read : ndarray
        (sigmas, widths): the width read (integral / peak, median over the offsets) of a box of each width,
        made strictly increasing in the width (a box far thinner than the blur reads the same whatever its
        width; a slope of 1e-6 keeps the inversion single-valued there).
    edge : ndarray
        (sigmas, widths): the edge width (px, :func:`hairtrack.imaging.hairs._lobe_stats`, median over the
        offsets) of each box. For the boxes the blur is read from (readings of 8-16 px) it grows with sigma, up
        to about 3 px of blur, where it flattens; at a given sigma it depends on the box's width too: a narrow
        box's blurred edges meet, and a box near the profile's 29 px has its ends cut. (Boxes of a few px at
        under a pixel of blur have a lobe too narrow for a 4-px fall, and their cells mean nothing.)
    """
    from scipy.special import erf

    x = np.arange(-14, 15, dtype=np.float64)[None, :] - np.linspace(-0.5, 0.5, 9)[:, None]  # (offsets, samples)
    k = math.sqrt(2.0) * _BLUR_SIGMAS_PX[:, None, None, None]
    w = _BOX_WIDTHS_PX[None, :, None, None]
    integral, peak, edge = _lobe_stats(0.5 * (erf((x + w / 2) / k) - erf((x - w / 2) / k)), edges=True)
    read = np.maximum.accumulate(np.median(integral / peak, axis=-1), axis=1) + 1e-6 * _BOX_WIDTHS_PX[None, :]
    return read, np.nanmedian(edge, axis=-1)


def _shaft_blurs(readings: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The blur (Gaussian sigma, input px) at which a box's width reading and edge width are both the shaft's,
    one per shaft (clamped to the tables' 0.3-4.0).

    For each sigma of the tables, the box width giving the reading is found and its edge width at that sigma
    read off; that grows with sigma, and the shaft's blur is where it meets the measured edge width (the first
    crossing, interpolated). A box's edges depend on its width as well as on the blur (a narrow box's blurred
    edges meet, and a box near the profile's 29 px has its ends cut), so reading every shaft against a 14-px
    box took a 2.5-px blur for 2.2 from 8-px shafts and 1.3 from 26-px ones.
    """
    read, edge = _blur_tables()
    readings = np.asarray(readings, np.float64)
    edges = np.asarray(edges, np.float64)
    # (sigmas, shafts): the edge width of the box that reads each shaft's width, at each sigma
    at = np.stack([np.interp(np.interp(readings, read[i], _BOX_WIDTHS_PX), _BOX_WIDTHS_PX, edge[i])
                   for i in range(len(_BLUR_SIGMAS_PX))])
    diff = at - edges[None, :]  # < 0 where that sigma gives sharper edges than measured
    cross = (diff[:-1] < 0) & (diff[1:] >= 0)
    found = cross.any(axis=0)
    j = np.where(found, np.argmax(cross, axis=0), 0)
    cols = np.arange(len(edges))
    d0, d1 = diff[j, cols], diff[j + 1, cols]
    f = np.clip(-d0 / np.where(d1 - d0 > 0, d1 - d0, 1.0), 0.0, 1.0)
    sigma = _BLUR_SIGMAS_PX[j] + f * (_BLUR_SIGMAS_PX[j + 1] - _BLUR_SIGMAS_PX[j])
    # no crossing: sharper than the least blur, or blunter than the most
    return np.where(found, sigma, np.where(diff[0] >= 0, _BLUR_SIGMAS_PX[0], _BLUR_SIGMAS_PX[-1]))


def _photo_blur_px(readings: list[float], edges: list[float], lone: np.ndarray | None = None) -> float | None:
    """The photo's blur (Gaussian sigma, input px, 0.3-4.0): the median over its wide shafts of each one's blur
    (:func:`_shaft_blurs`, from its width reading and edge width), or None with fewer than two.

    Shafts reading ``_PLATEAU_PX`` to ``_BLUR_MAX_READ_PX`` wide are used: narrower ones show the blur more
    than their edges, and wider ones fill the 29-px profile, whose ends then cut their edges. With ``lone``
    (one flag per shaft, :func:`_lone_shafts`) only the lone ones are used, when ``_LONE_MIN`` or more of them
    can be: where the shafts of a unit lie on each other in different tones their profile is peaked, which
    the tables take for a wider box with sharper edges, and they read the blur low (2.0-2.2 input px against
    2.6 on hard renders at 100 px/mm). Fewer lone shafts than that read a noisier median than all of them.
    """
    read = np.asarray(readings, np.float64)
    edge = np.asarray(edges, np.float64)
    use = (read >= _PLATEAU_PX) & (read <= _BLUR_MAX_READ_PX) & (edge > 0) & np.isfinite(edge)
    if lone is not None and np.count_nonzero(use & lone) >= _LONE_MIN:
        use &= lone
    if np.count_nonzero(use) < 2:
        return None
    return float(np.median(_shaft_blurs(read[use], edge[use])))


def _lone_shafts(mids: np.ndarray, halves: np.ndarray, gap_px: float = _LONE_GAP_PX) -> np.ndarray:
    """Which shafts have no other shaft within ``gap_px`` of them (segment to segment).

    Parameters
    ----------
    mids : ndarray
        (n, 2) midpoints (row, col).
    halves : ndarray
        (n, 2) half of each shaft, midpoint to one end.
    gap_px : float
        Shafts closer than this (touching or crossing: 0) are not lone.

    Returns
    -------
    ndarray of bool
        (n,), True where the shaft is lone.
    """
    n = len(mids)
    lone = np.ones(n, bool)
    if n < 2:
        return lone
    starts, ends = mids - halves, mids + halves
    # two shafts within the gap have midpoints within the gap plus both half-lengths
    reach = gap_px + 2.0 * float(np.hypot(halves[:, 0], halves[:, 1]).max())
    pairs = cKDTree(mids).query_pairs(reach, output_type="ndarray")
    if len(pairs) == 0:
        return lone
    i, j = pairs.T

    def to_segment(p, a, b):  # distance from points p to segments a-b, row by row
        ab, ap = b - a, p - a
        t = np.clip((ap * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0.0, 1.0)
        return np.hypot(*(ap - t[:, None] * ab).T)

    def side(a, b, p):  # sign of the turn a -> b -> p
        return np.sign((b[:, 0] - a[:, 0]) * (p[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[:, 0] - a[:, 0]))

    a1, b1, a2, b2 = starts[i], ends[i], starts[j], ends[j]
    dist = np.minimum.reduce([to_segment(a1, a2, b2), to_segment(b1, a2, b2),
                              to_segment(a2, a1, b1), to_segment(b2, a1, b1)])
    crossing = (side(a1, b1, a2) * side(a1, b1, b2) < 0) & (side(a2, b2, a1) * side(a2, b2, b1) < 0)
    near = crossing | (dist < gap_px)
    lone[i[near]] = False
    lone[j[near]] = False
    return lone


@lru_cache(maxsize=8)
def _blur_row(sigma_px: float) -> tuple[np.ndarray, float, float]:
    """For :func:`_unblurred_width`, at one blur: the width read of each box (the tables' rows interpolated at
    ``sigma_px``), and the box width and its reading from which the inversion holds. A photo has one blur, so
    its shafts share these (kept, read-only, for the last few blurs)."""
    read, _ = _blur_tables()
    i = int(np.clip(np.searchsorted(_BLUR_SIGMAS_PX, sigma_px), 1, len(_BLUR_SIGMAS_PX) - 1))
    f = float(np.clip((sigma_px - _BLUR_SIGMAS_PX[i - 1]) / (_BLUR_SIGMAS_PX[i] - _BLUR_SIGMAS_PX[i - 1]), 0, 1))
    row = (1 - f) * read[i - 1] + f * read[i]
    row.flags.writeable = False
    # from 1.5 sigmas, or where the reading starts to grow with the width (at the least blur a box under 0.8 px
    # reads 1 px whatever its width)
    w_min = max(1.5 * sigma_px, float(_BOX_WIDTHS_PX[min(int(np.searchsorted(row, row[0] + 1e-3)), len(row) - 1)]))
    return row, w_min, float(np.interp(w_min, _BOX_WIDTHS_PX, row))


def _unblurred_width(width_px: float, sigma_px: float) -> float:
    """The box width whose profile, blurred at the photo's blur, reads ``width_px``.

    Under 1.5 sigmas the blurred profile's shape hardly changes with the width, so a reading there is only
    scaled down by the factor at 1.5 sigmas (or where the reading starts to grow, if wider): continuous, and
    never collapsing to a width near zero where a profile is more peaked than the blur (a blur-undoing width
    read per profile did, on real thin hairs). A reading past the table's widest box (28 px) is scaled by the
    factor there.
    """
    row, w_min, r_min = _blur_row(float(sigma_px))  # one cache entry, and float results, for any float
    if width_px < r_min:
        return width_px * w_min / r_min
    if width_px > row[-1]:
        return width_px * float(_BOX_WIDTHS_PX[-1] / row[-1])
    return float(np.interp(width_px, row, _BOX_WIDTHS_PX))


def detect_hairs_learned(image: np.ndarray, *, px_per_mm: float | None = None, threshold: float = DEFAULT_THRESHOLD,
                         field: ScanField | None = None, model_path: Path | str | tuple | None = None,
                         gates: bool = True) -> tuple[Hair, ...]:
    """Find the hair shafts of a trichoscopy photo with the learned detector.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB (uint8; grey, 16-bit and float are converted).
    px_per_mm : float, optional
        Scale; the photo is resized to the network's 179 px/mm, and each hair gets ``width_um``. Without
        it the long side is brought to 640 px (a 70x dermoscope at 1280 x 1024).
    threshold : float
        Heatmap peak (0-1) from which a hair counts on the network's word alone; weaker peaks down to
        0.8 times it count when the image confirms a dark shaft, and near the frame a peak needs 0.5
        (:func:`_gate_peaks`).
    field : ScanField, optional
        From :func:`hairtrack.imaging.quality.scan_field`; computed when not given.
    model_path : Path or (Path, Path), optional
        Another ONNX model with the same outputs (run on the photo and its mirror image), or a pair (the
        second runs on the mirror image); by default the shipped pair (:func:`predict_maps`).
    gates : bool
        Apply the image gates (:func:`_gate_peaks`, the default). ``False`` decodes from the heatmap alone
        (peaks from ``threshold``, frame band off), the decoding before the gates, for comparison.

    Returns
    -------
    tuple of Hair
        Sorted by row, then column; ``end_a`` and ``end_b`` are the midpoint plus and minus half the
        predicted length along the predicted direction.

    Examples
    --------
    >>> from hairtrack.synth import render_scalp
    >>> scene = render_scalp(seed=3, shape=(512, 640), px_per_mm=110.0, n_units=6, difficulty="easy")
    >>> hairs = detect_hairs_learned(scene.image, px_per_mm=scene.px_per_mm)
    >>> whole = sum(not h.at_border for h in scene.hairs)  # hairs that do not leave the frame
    >>> abs(len(hairs) - whole) <= 3
    True
    """
    rgb = as_rgb_uint8(image)
    ppm = check_px_per_mm(px_per_mm)
    if not (0.0 < threshold < 1.0):
        raise InputError(f"threshold must be between 0 and 1, got {threshold!r}")
    h, w = rgb.shape[:2]
    if min(h, w) < 16 or value_span(rgb) < 8:
        return ()
    if field is None:
        field = scan_field(rgb)
    s = _input_scale(h, w, ppm)
    if h * w * s * s > _MAX_INPUT_PX:
        area_cm2 = h * w / ppm ** 2 / 100.0 if ppm else float("nan")
        raise InputError(f"at {ppm:g} px/mm this {w} x {h} px photo covers {area_cm2:.0f} cm² of scalp, more than a "
                         f"close-up ({_MAX_INPUT_PX / _INPUT_PX_PER_MM ** 2 / 100:.0f} cm² at most): crop it to "
                         "the zone, or check the scale")
    work, maps, stride = predict_maps(rgb, s, model_path=model_path)
    heat = maps[0]
    gh, gw = heat.shape
    usable = cv2.resize(mask_bytes(field.usable), (gw, gh), interpolation=cv2.INTER_NEAREST).view(bool)
    floor = _WEAK_FRACTION * threshold if gates else threshold
    peak = (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8))) & (heat >= floor) & usable
    ys, xs = np.nonzero(peak)
    if len(ys) == 0:
        return ()
    pad = np.pad(heat, 1)
    offs = np.array([-1, 0, 1], np.float32)
    # working-scale darkness, for widths, over the classical pipeline's window at the network's scale: the
    # window in input pixels the contrast gate was tuned with, whatever the photo's own scale
    overlay = cv2.resize(mask_bytes(field.overlay), (work.shape[1], work.shape[0]),
                         interpolation=cv2.INTER_NEAREST).view(bool)
    d, _ = _darkness(work, overlay, _contrast_window_px(_INPUT_PX_PER_MM))
    recs = []
    for y, x in zip(ys, xs):
        win = pad[y:y + 3, x:x + 3]
        wsum = float(win.sum())
        dy = float((win.sum(axis=1) * offs).sum() / wsum)
        dx = float((win.sum(axis=0) * offs).sum() / wsum)
        r_in = (y + 0.5 + dy) * stride - 0.5
        c_in = (x + 0.5 + dx) * stride - 0.5
        theta = 0.5 * math.atan2(float(maps[2, y, x]), float(maps[1, y, x]))
        length_in = _LEN_REF_PX * math.exp(float(np.clip(maps[3, y, x], -3.0, 3.0)))
        axis = np.array([-math.sin(theta), math.cos(theta)])  # (row, col)
        recs.append((r_in, c_in, theta, length_in, axis, 0.0, 0.0, float(heat[y, x])))
    read = _shaft_widths(d, recs, span=_GATE_SPAN)
    # no dark shaft across the predicted direction: not a hair (as in hairs.py)
    recs = [(*rec[:5], float(wc[0]), float(wc[1]), rec[7]) for rec, wc in zip(recs, read) if wc[0] > 0]
    recs = _shaft_nms(_gate_peaks(recs, threshold, work.shape[:2]) if gates else recs)
    # The kept shafts' widths over more of their length than the gates read: a shaft of a unit lies on or
    # crosses its neighbours near the common opening, where a profile across it adds theirs, and they part
    # towards the tips (docs/hair_detector_card.md, twenty-fourth session). For the same reason the width is the
    # profiles' 35th percentile, not their median. A shaft with no profile peaking over that span keeps the
    # gates' figures. Then the photo's blur is taken out of each width: measured at the edges of its wide
    # shafts (:func:`_photo_blur_px`), it widens a thin shaft's profile by up to 2.5 sigmas (a phone macro
    # enlarged to the network's scale: 20-30 um hairs read +60%). Synthetic scenes, seeds 5020-5039, median
    # |error| easy / medium / hard: 4.8 / 6.9 / 11.8% -> 3.5 / 5.6 / 9.9% at 110 px/mm, 3.5 / 5.2 / 6.1% -> 2.3 /
    # 3.4 / 4.2% at 220 (twenty-fifth session); the blur read from the edges' fall over 4 px against boxes of each
    # shaft's width: 100 px/mm 3.5 / 6.4 / 14.3% -> 3.5 / 6.3 / 13.0%, 110 3.5 / 5.5 / 9.9% -> 3.5 / 5.5 / 9.4%, 220
    # 2.3 / 3.5 / 4.3% -> 2.4 / 3.4 / 4.5% (twenty-ninth session). A shaft's profiles climb together to the nearest
    # peak of their mean (_CENTRE_PX): found off its middle, a shaft read an edge as its peak. Seeds 5040-5059,
    # with the darkest point in reach (the first form): 100 px/mm 3.7 / 6.6 / 13.4% -> 3.7 / 6.5 / 12.3%, 110 3.2 /
    # 5.6 / 9.3% -> 3.3 / 5.6 / 9.0%, 220 3.1 / 3.4 / 5.5% -> 3.3 / 3.4 / 5.3%; the nearest peak against that, seeds
    # 5060-5079: the same to 0.1 point in every cell, and a thin shaft no longer moves onto a thick neighbour's
    # edge (thirtieth session). The blur is read from the lone shafts when there are enough (_photo_blur_px), seeds
    # 5080-5099: 100 px/mm 3.6 / 6.7 / 12.3% -> 3.3 / 6.1 / 10.7%, 110 3.4 / 5.3 / 8.0% -> 3.2 / 5.3 / 7.8%, 220
    # unchanged; and a shaft whose ends read 1.3x apart takes the narrower end's width (_PARTED_RATIO: a unit's
    # thin shaft lying on a thicker neighbour read it), seeds 5100-5119 at 100 px/mm 3.2 / 6.5 / 10.0% -> 3.4 /
    # 6.2 / 9.5% (thirty-first session).
    edges = [0.0] * len(recs)
    for i, (rec, wide) in enumerate(zip(recs, _shaft_widths(d, recs, width_pct=_WIDTH_PCT, edges=True,
                                                            centre_px=_CENTRE_PX, parted_ratio=_PARTED_RATIO))):
        if wide[0] > 0:
            recs[i] = (*rec[:5], float(wide[0]), float(wide[1]), rec[7])
            edges[i] = float(wide[2])
    plateau = [c for (*_, wd, c, _) in recs if wd >= 4.0]
    ref_c = float(np.median(plateau)) if len(plateau) >= 2 else None
    lone = _lone_shafts(np.array([rec[:2] for rec in recs], np.float64).reshape(-1, 2),
                        np.array([0.5 * rec[3] * rec[4] for rec in recs], np.float64).reshape(-1, 2))
    sigma = _photo_blur_px([rec[5] for rec in recs], edges, lone)
    out = []
    for r_in, c_in, theta, length_in, axis, width, contrast, _score in recs:
        raw = width
        if sigma is not None:
            width = _unblurred_width(width, sigma)
        # a shaft far thinner than the blur: its profile's shape says little, its contrast more (thin shafts
        # are blurred below the wide ones' contrast); the smaller of the two
        if ref_c is not None and raw < 4.0:
            width = min(width, raw * contrast / max(ref_c, contrast))
        # within the photo: an input a few pixels across is enlarged to the network's least 16 px, past ``s``
        mid = np.clip(np.array([r_in, c_in]) / s, 0.0, [h - 1.0, w - 1.0])
        half = 0.5 * length_in / s * axis
        wpx = width / s
        out.append(Hair(row_px=float(mid[0]), col_px=float(mid[1]), width_px=float(wpx), length_px=float(length_in / s),
                        angle_deg=float(math.degrees(theta) % 180.0),
                        end_a=(float(mid[0] + half[0]), float(mid[1] + half[1])),
                        end_b=(float(mid[0] - half[0]), float(mid[1] - half[1])), contrast=float(contrast),
                        width_um=None if ppm is None else float(wpx / ppm * 1000.0)))
    out.sort(key=lambda hr: (hr.row_px, hr.col_px))
    return tuple(out)

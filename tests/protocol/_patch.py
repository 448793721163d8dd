"""A small private renderer of synthetic scalp patches for these tests: skin texture + dark curved hairs.

(hairtrack.synth.scalp will replace it once it exists; these tests only need known midpoints.)
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def world(seed: int, size: int = 700, n_hairs: int = 220) -> tuple[np.ndarray, np.ndarray]:
    """A float RGB skin canvas (0-1) and its hairs as rows (mid_row, mid_col, angle, length, bend, width)."""
    rng = np.random.default_rng(seed)
    low = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 20)
    mid = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 2.0)
    tex = 0.04 * low / (low.std() + 1e-9) + 0.03 * mid / (mid.std() + 1e-9)
    canvas = np.array([0.86, 0.70, 0.62], dtype=np.float32)[None, None, :] * (1 + tex[..., None])
    for r, c in rng.uniform(0, size, (size * size // 2500, 2)):
        cv2.circle(canvas, (int(c), int(r)), 1, (0.62, 0.48, 0.42), -1, cv2.LINE_AA)
    hairs = np.c_[rng.uniform(0, size, (n_hairs, 2)), rng.uniform(0, np.pi, n_hairs), rng.uniform(30, 70, n_hairs),
                  rng.uniform(-5, 5, n_hairs), rng.uniform(2.0, 4.0, n_hairs)]
    return canvas, hairs


def draw(canvas: np.ndarray, hairs: np.ndarray) -> np.ndarray:
    out = canvas.copy()
    t = np.linspace(-0.5, 0.5, 16)
    for r, c, ang, length, bend, width in hairs:
        d, n = np.array([math.cos(ang), math.sin(ang)]), np.array([-math.sin(ang), math.cos(ang)])
        pts = np.c_[c + t * length * d[0] - 4 * bend * t**2 * n[0], r + t * length * d[1] - 4 * bend * t**2 * n[1]]
        cv2.polylines(out, [np.rint(pts * 8).astype(np.int32)], False, (0.16, 0.11, 0.09), int(round(width)),
                      cv2.LINE_AA, shift=3)
    return out


def pose(center_rc: tuple[float, float], angle_deg: float, scale: float, frame: tuple[int, int]) -> np.ndarray:
    """3x3 map of world (x, y) to photo (x, y), the photo centred on ``center_rc``."""
    a = math.radians(angle_deg)
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    t = np.array([frame[1] / 2, frame[0] / 2]) - rot @ np.array([center_rc[1], center_rc[0]])
    return np.vstack([np.c_[rot, t], [0, 0, 1]])


def photo(img: np.ndarray, m: np.ndarray, frame: tuple[int, int], *, gain: float = 1.0, seed: int = 0) -> np.ndarray:
    out = cv2.warpAffine(img, m[:2], (frame[1], frame[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = out * gain + np.random.default_rng(seed).normal(0, 0.01, out.shape)
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def midpoints(hairs: np.ndarray, m: np.ndarray, frame: tuple[int, int]) -> np.ndarray:
    """(row, col) in the photo of the hairs whose midpoint it shows."""
    xy = np.c_[hairs[:, 1], hairs[:, 0], np.ones(len(hairs))] @ m.T
    rc = xy[:, [1, 0]]
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < frame[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < frame[1])
    return rc[ok]

"""Small builders the tests share."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` (a decompression bomb's header) without the pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def to_shaft(points: np.ndarray, hair) -> np.ndarray:
    """Distance (px) from each (row, col) point to a true hair's visible shaft."""
    t = np.radians(hair.angle_deg)
    axis = np.array([-np.sin(t), np.cos(t)])
    rel_pos = np.asarray(points, np.float64) - [hair.row_px, hair.col_px]
    along = np.clip(rel_pos @ axis, -hair.length_px / 2, hair.length_px / 2)
    return np.hypot(*(rel_pos - along[:, None] * axis).T)


def matched(found, hairs, ppm: float) -> list[tuple[int, int]]:
    """(found, true) index pairs, one to one as ``benchmarks/synthetic.py`` matches them: Hungarian on the
    distance between midpoints, within half the true hair's length of its middle and within two shaft widths
    or 0.1 mm of its shaft."""
    from scipy.optimize import linear_sum_assignment

    if not found or not hairs:
        return []
    det = np.array([[h.row_px, h.col_px] for h in found])
    cost = np.full((len(found), len(hairs)), 1e6)
    for j, h in enumerate(hairs):
        dist = np.hypot(*(det - [h.row_px, h.col_px]).T)
        ok = (dist <= h.length_px / 2) & (to_shaft(det, h) <= max(2 * h.width_px, 0.1 * ppm))
        cost[ok, j] = dist[ok]
    return [(r, c) for r, c in zip(*linear_sum_assignment(cost)) if cost[r, c] < 1e6]

"""Decoding photos safely: JPEG, PNG, TIFF, WebP and HEIC/HEIF, EXIF orientation applied, a pixel-count
limit against decompression bombs, 16-bit and grey images normalised to 8-bit RGB, and copies for
storage with location and camera metadata removed.

Everything here works on bytes and arrays; reading the file is the caller's one line.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from hairtrack.errors import InputError
from hairtrack.imaging.quantiles import histogram_rank_value

try:  # HEIC/HEIF is what iPhones save; the opener registers itself with Pillow.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIF_SUPPORTED = False

__all__ = [
    "ImageError",
    "LoadedImage",
    "load_image",
    "read_photo",
    "sanitized_copy",
    "samples_to_rgb8",
    "alpha_opacity",
    "DEFAULT_MAX_PIXELS",
    "MIN_SIDE_PX",
    "HEIF_SUPPORTED",
]

# 64 MP admits every phone's default output (12-50 MP) and refuses bombs (a 30,000 x 30,000 PNG is 900 MP).
DEFAULT_MAX_PIXELS = 64_000_000
# A 64 MP photo as an uncompressed 16-bit RGB TIFF is 384 MB: no photo hairtrack measures is larger.
MAX_PHOTO_BYTES = 512 * 2**20
MIN_SIDE_PX = 16
# 16-bit samples are histogrammed and looked up this many at a time: np.bincount and indexing make an int64
# copy of what they are given (8 bytes a sample, 1.5 GB for a 64 MP RGB photo); a block's is 2 MB.
_BLOCK_SAMPLES = 2**18
_EXIF_WANTED = {"Make", "Model", "DateTimeOriginal", "DateTime", "FocalLength", "ExposureTime", "ISOSpeedRatings", "LensModel"}


class ImageError(InputError):
    """A file that cannot be used as a photo; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """A decoded photo.

    Attributes
    ----------
    rgb : ndarray
        H x W x 3 uint8, RGB, upright (EXIF orientation applied).
    format : str
        The container Pillow recognised (``JPEG``, ``PNG``, ``TIFF``, ``HEIF``, ...).
    original_mode : str
        Pillow's mode before conversion (``L`` for grey, ``I;16`` for 16-bit, ...).
    exif : dict
        A few capture facts (camera make and model, time taken, exposure), never location.
    had_gps : bool
        The file carried GPS coordinates (they are never kept).
    warnings : tuple of str
        Things done to the image that a person may want to know (a multi-page file, a 16-bit scale).
    transparent : ndarray of bool or None
        H x W, where the file is more than half transparent (shown white in ``rgb``); no part of the scalp
        field. ``None`` when the file has no transparency.
    """

    rgb: np.ndarray
    format: str
    original_mode: str
    exif: dict[str, Any] = field(default_factory=dict)
    had_gps: bool = False
    warnings: tuple[str, ...] = ()
    transparent: np.ndarray | None = None

    @property
    def shape_px(self) -> tuple[int, int]:
        """(rows, columns)."""
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, either byte order


def _image_kind(head: bytes) -> str | None:
    """The image format a file's first bytes announce, whether or not the rest is readable."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(_TIFF_MAGIC):
        return "TIFF"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif"):
        return "HEIC/HEIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    return None


def _describe_non_image(data: bytes) -> str:
    head = data[:512]
    kind = _image_kind(head)
    if kind is not None:
        return f"it starts as a {kind} image but the rest cannot be read: truncated or damaged"
    if head.lstrip().startswith((b"{", b"[")):
        return "it looks like JSON text"
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "it looks like a web page"
    if head.startswith(b"%PDF"):
        return "it is a PDF"
    try:
        head.decode("utf-8")
        return "it looks like a text file"
    except UnicodeDecodeError:
        return "its contents are not a known image format"


def _too_large(name: str, pillow_message: str, max_pixels: int) -> str:
    match = re.search(r"\((\d+) pixels\)", pillow_message)
    size = f"{int(match[1]) / 1e6:.0f} MP " if match else ""
    return (
        f"{name}: {size}is above the {max_pixels / 1e6:.0f} MP limit; refused without decoding "
        "(a decompression bomb or an unusually large photo)"
    )


def _unsigned_32_bit(image: Image.Image) -> bool:
    """A TIFF of unsigned 32-bit samples, which Pillow hands over as signed ("I"): values from 2**31 up
    would read as negative."""
    tags = getattr(image, "tag_v2", None)
    if image.mode != "I" or tags is None:
        return False
    fmt, bits = tags.get(339, 1), tags.get(258, 32)  # SampleFormat (1: unsigned, the default), BitsPerSample
    fmt = fmt[0] if isinstance(fmt, tuple) else fmt
    bits = bits[0] if isinstance(bits, tuple) else bits
    return fmt == 1 and bits == 32


def samples_to_rgb8(values: np.ndarray, mode: str, notes: list[str], *, bit_depth: bool = False) -> np.ndarray:
    """Samples of more than 8 bits (grey, or colour on the last axis) as RGB uint8; what was done is added to
    ``notes``, naming the samples by ``mode``.

    With ``bit_depth`` (16-bit samples) the scale is the depth the samples use: a 12-bit sensor's 0-4095 in
    a 16-bit file is scaled by 4095, a full 16-bit photo by 65535, so a dark photo stays dark (and the quality
    check says so) and a bright one is not stretched. Floating-point samples are [0, 1] up to a top of 1.5
    and [0, 255] up to 382.5 (clipped). Otherwise (32-bit integers, floats beyond those, whose range says
    nothing about a depth) it is the image's own range. Either way the top is the 99.99th percentile of
    the finite samples (leaving out at least 3), not the maximum: one hot pixel (or one ``inf``) would
    otherwise leave the photo black. Colour channels share one scale, so the colours keep their balance."""
    if values.size == 0:  # no samples, no range to read: an empty picture (callers refuse it with its size)
        return np.zeros(values.shape[:2] + (3,), np.uint8)
    if values.dtype == np.uint16 or (bit_depth and np.issubdtype(values.dtype, np.integer)
                                     and values.size and int(values.min()) >= 0 and int(values.max()) <= 65535):
        # 16-bit samples through a histogram and a lookup table, a block of rows at a time: a float copy of a
        # 64 MP photo was 1.5 GB, and so was the int64 copy np.bincount and indexing make of a whole image
        values = values.astype(np.uint16, copy=False)
        rows = max(1, _BLOCK_SAMPLES // max(1, values[0].size))
        counts = np.zeros(65536, np.int64)
        for start in range(0, values.shape[0], rows):
            counts += np.bincount(values[start : start + rows].ravel(), minlength=65536)
        top = _histogram_top(counts)
        if bit_depth:
            high = float(2 ** next(k for k in range(8, 17) if top <= 2 ** k - 1) - 1)
            how = f"its {int(np.log2(high + 1))}-bit range (0-{high:g})"
        else:
            high = float(top if top > 0 else np.flatnonzero(counts)[-1])
            how = f"its maximum ({high:g})"
        table = np.clip(np.round(np.arange(65536) * (255.0 / high if high > 0 else 0.0)), 0, 255).astype(np.uint8)
        out = np.empty(values.shape, np.uint8)
        for start in range(0, values.shape[0], rows):
            out[start : start + rows] = table[values[start : start + rows]]
        clipped = int(counts[int(high) + 1:].sum())
        notes.append(f"{mode} image scaled to 8 bits by {how}"
                     + (f"; {clipped} brighter sample{'' if clipped == 1 else 's'} clipped" if clipped else ""))
        return out if out.ndim == 3 else np.repeat(out[:, :, None], 3, axis=2)
    values_dtype = values.dtype
    values = values.astype(np.float32 if values.dtype.itemsize <= 4 and values.dtype.kind == "f" else np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        notes.append(f"{mode} image with no finite sample")
        return np.zeros(values.shape[:2] + (3,), np.uint8)
    from hairtrack.imaging.quality import samples_top

    seen = values[finite].ravel()
    top = samples_top(seen)  # the top, a few hot samples left out
    floating = np.issubdtype(values_dtype, np.floating)
    if bit_depth:
        low, high = 0.0, float(2 ** next(k for k in range(8, 17) if top <= 2 ** k - 1) - 1)
        how = f"its {int(np.log2(high + 1))}-bit range (0-{high:g})"
    elif floating and top <= 255.0 * 1.5:
        low, high = 0.0, (1.0 if top <= 1.5 else 255.0)
        how = f"the range 0-{high:g}"
    else:
        low = min(float(seen.min()), 0.0)  # signed samples: the darkest is black
        high = top if top > low else float(seen.max())  # a few bright samples on a flat image make its range
        how = f"its maximum ({high:g})" if low == 0 else f"its range ({low:g} to {high:g})"
    scale = 255.0 / (high - low) if high > low else 0.0
    values = np.where(np.isnan(values), low, values)
    out = np.clip((values - low) * scale, 0, 255).round().astype(np.uint8)
    clipped = int(np.count_nonzero(values > high))
    notes.append(f"{mode} image scaled to 8 bits by {how}"
                 + (f"; {clipped} brighter sample{'' if clipped == 1 else 's'} clipped" if clipped else ""))
    return out if out.ndim == 3 else np.repeat(out[:, :, None], 3, axis=2)


def _histogram_top(counts: np.ndarray) -> int:
    """:func:`hairtrack.imaging.quality.samples_top` from a histogram of integer samples (its index is the
    value): the largest sample once the brightest max(3, 0.01%) are left out."""
    total = int(counts.sum())
    rank = max(total - 1 - max(3, total // 10_000), 0)  # the rank of the sample wanted, from the darkest
    return int(histogram_rank_value(counts, rank))


def _to_rgb8(image: Image.Image, notes: list[str], unsigned_32: bool = False,
             transparent: list[np.ndarray] | None = None) -> np.ndarray:
    """The image as RGB uint8; where it is more than half transparent is appended to ``transparent``."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image)
        if unsigned_32 and values.dtype == np.int32:
            values = values.view(np.uint32)
        return samples_to_rgb8(values, mode, notes, bit_depth=mode.startswith("I;16"))
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        # Transparent pixels carry no scalp; flatten onto white so they read as background, not hair.
        rgba = image.convert("RGBA")
        if transparent is not None:
            transparent.append(np.asarray(rgba.getchannel("A")) < 128)
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(canvas, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _sixteen_bit_layout(image: Image.Image) -> str | None:
    """How a PNG or TIFF of 16-bit colour, or grey and alpha, samples holds them (``RGB;16``, ``RGBA;16``,
    ``LA;16``); ``None`` for any other image. Pillow opens these as 8-bit by keeping each sample's high byte, so a
    12-bit photo stored in 16-bit samples (0-4095) would come out nearly black."""
    if image.mode not in ("RGB", "RGBA", "LA") or image.format not in ("PNG", "TIFF"):
        return None
    if image.format == "PNG":  # Pillow opens grey and alpha at 16 bits as RGBA; the tile says what is stored
        for tile in getattr(image, "tile", ()):
            raw = str(tile[3]) if len(tile) > 3 else ""
            if raw.startswith(("RGB;16", "RGBA;16", "LA;16")):
                return raw.split(";")[0] + ";16"
        return None
    bits = getattr(image, "tag_v2", {}).get(258, 8)
    return f"{image.mode};16" if (max(bits) if isinstance(bits, tuple) else bits) == 16 else None


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as the pixels are stored, before any turn: recent Pillow gives a TIFF's size already turned
    by its Orientation tag, a PNG's as stored."""
    tags = getattr(image, "tag_v2", None)
    if image.format == "TIFF" and tags is not None and 256 in tags and 257 in tags:
        return int(tags[256]), int(tags[257])  # ImageWidth, ImageLength
    return image.size


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's log lines (libtiff's complaints about a file it cannot read) kept off stderr while it decodes: the
    error raised says what matters. The level is process-wide, so it is put back at once."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _tiff_orientation_cleared(data: bytes) -> bytes | bytearray:
    """A TIFF's bytes with its first image's Orientation tag set to 1 (a copy; ``data`` itself when it has none).

    OpenCV's TIFF decoder turns the samples by that tag itself, whatever the flags say
    (``IMREAD_IGNORE_ORIENTATION`` included; OpenCV 5.0), where every other decoder here hands them over as
    stored. With the tag cleared OpenCV does too, and the one turn is :func:`_turn_upright`'s.
    """
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\0", b"\0+")  # BigTIFF: 8-byte offsets and counts, 20-byte entries
    count_format, entry_size, value_at = ("Q", 20, 12) if big else ("H", 12, 8)
    directory = struct.unpack_from(order + ("Q" if big else "I"), data, 8 if big else 4)[0]
    entries = struct.unpack_from(order + count_format, data, directory)[0]
    first = directory + struct.calcsize(order + count_format)
    for at in range(first, first + entries * entry_size, entry_size):
        tag, kind = struct.unpack_from(order + "HH", data, at)
        if tag == 274 and kind in (3, 4):  # Orientation: a SHORT as the standard has it, or a LONG
            cleared = bytearray(data)
            struct.pack_into(order + ("H" if kind == 3 else "I"), cleared, at + value_at, 1)
            return cleared
    return data


def _opencv_as_stored(data: bytes, orientation: int) -> np.ndarray | None:
    """The file decoded by OpenCV with every sample as stored (depth, alpha, orientation), or ``None``.

    IMREAD_UNCHANGED keeps 16 bits and alpha, and with it imdecode leaves EXIF orientation alone (OR-ing in
    IMREAD_IGNORE_ORIENTATION changes nothing: IMREAD_UNCHANGED is -1, every bit set); its libtiff applies a
    TIFF's own Orientation tag, though, so the tag is set to 1 first and the caller turns the image once.
    """
    if data.startswith(_TIFF_MAGIC) and orientation != 1:
        data = _tiff_orientation_cleared(data)
    with _opencv_quiet():
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def _decode_16_bit(data: bytes, layout: str, stored_size: tuple[int, int], orientation: int, notes: list[str],
                   transparent: list[np.ndarray]) -> np.ndarray:
    """The 16-bit samples (``layout`` from :func:`_sixteen_bit_layout`) decoded with OpenCV (Pillow cannot hold
    them), upright, scaled to 8 bits; grey and alpha is scaled as 16-bit grey is."""
    values = _opencv_as_stored(data, orientation)
    if values is None or values.ndim != 3 or values.shape[:2] != stored_size[::-1]:
        raise ValueError("the 16-bit samples could not be decoded")
    # OpenCV hands grey and alpha over as BGRA, the grey in all three colours
    samples = values[..., 0] if layout == "LA;16" else values[..., 2::-1]
    rgb = samples_to_rgb8(samples, layout, notes, bit_depth=True)
    if values.shape[2] in (2, 4):  # transparent pixels carry no scalp: onto white, as for 8-bit images
        rgb = _onto_white(rgb, values[..., -1].astype(np.float32) / 65535.0)
        transparent.append(_turn_upright((values[..., -1] < 32768)[..., None], orientation)[..., 0])
    return _turn_upright(rgb, orientation)


def _onto_white(rgb: np.ndarray, opacity: np.ndarray) -> np.ndarray:
    """``rgb`` (uint8) laid over white with ``opacity`` (0-1, float32), where it is not wholly opaque."""
    see_through = opacity < 1.0
    if not see_through.any():
        return rgb
    out = rgb.copy()
    o = opacity[see_through][:, None]
    out[see_through] = np.clip(rgb[see_through] * o + 255.0 * (1.0 - o), 0, 255).round().astype(np.uint8)
    return out


def _turn_upright(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """``rgb`` turned as EXIF ``orientation`` (1-8) says, as ``PIL.ImageOps.exif_transpose`` turns an image."""
    turned = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
              5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1), 7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
              8: lambda a: np.rot90(a, 1)}
    return np.ascontiguousarray(turned[orientation](rgb)) if orientation in turned else rgb


def _exif_facts(image: Image.Image) -> tuple[dict[str, Any], bool]:
    try:
        exif = image.getexif()
    except Exception:  # a damaged EXIF block must not make the photo unusable
        return {}, False
    facts: dict[str, Any] = {}
    try:
        merged = dict(exif.items())
    except Exception:  # a tag that cannot be read (a damaged TIFF directory)
        return {}, False
    try:
        merged.update(exif.get_ifd(ExifTags.IFD.Exif).items())
    except Exception:
        pass
    for tag, value in merged.items():
        name = ExifTags.TAGS.get(tag)
        if name in _EXIF_WANTED:
            facts[name] = value if isinstance(value, str | int) else str(value)
    try:
        had_gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:
        had_gps = ExifTags.Base.GPSInfo in exif
    return facts, had_gps


def _check_size(name: str, width: int, height: int, max_pixels: int) -> None:
    """Refuse, before decoding, a picture over ``max_pixels`` (a decompression bomb) or under ``MIN_SIDE_PX``."""
    if width * height > max_pixels:
        raise ImageError(f"{name}: {width} x {height} px ({width * height / 1e6:.0f} MP) is above the "
                         f"{max_pixels / 1e6:.0f} MP limit; refused without decoding (a decompression bomb or an "
                         "unusually large photo)")
    if min(width, height) < MIN_SIDE_PX:
        raise ImageError(f"{name}: {width} x {height} px is too small to measure anything in (at least {MIN_SIDE_PX} px "
                         "a side)")


def _shrunk(rgb: np.ndarray, transparent: np.ndarray | None,
            max_side_px: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``rgb`` (and its transparency mask) with the long side brought down to ``max_side_px`` when over it."""
    if max_side_px is None or max(rgb.shape[:2]) <= max_side_px:
        return rgb, transparent
    size = tuple(round(x * max_side_px / max(rgb.shape[:2])) for x in rgb.shape[1::-1])
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if transparent is not None:
        transparent = cv2.resize(transparent.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return rgb, transparent


def _missing_codec(page: Any) -> str | None:
    """What tifffile cannot undo in a TIFF ``page`` without the optional imagecodecs package (``compression LZW``,
    ``predictor FLOATINGPOINT``), or ``None`` when it can decode the page alone."""
    from tifffile import TIFF

    if page.compression not in TIFF.DECOMPRESSORS:
        return f"compression {getattr(page.compression, 'name', page.compression)}"
    if page.predictor not in TIFF.UNPREDICTORS:
        return f"predictor {getattr(page.predictor, 'name', page.predictor)}"
    return None


def _tiff_by_opencv(data: bytes, orientation: int, shape: tuple[int, int], samples: int,
                    dtype: np.dtype) -> np.ndarray | None:
    """A TIFF's first image decoded by OpenCV (its libtiff reads LZW, JPEG, ... without imagecodecs), as stored,
    colour in RGB(A) order; ``None`` when OpenCV cannot decode it, or hands over other samples than the file holds
    (it reads 16-bit grey and alpha as 8-bit grey)."""
    values = _opencv_as_stored(data, orientation)
    if (values is None or values.dtype != np.dtype(dtype).newbyteorder("=") or values.shape[:2] != shape
            or (values.shape[2] if values.ndim == 3 else 1) != samples):
        return None
    if values.ndim == 3 and values.shape[2] in (3, 4):  # OpenCV's BGR(A) back to the file's RGB(A)
        values = values[..., [2, 1, 0, 3][: values.shape[2]]]
    return values


def _load_tiff(data: bytes, name: str, max_pixels: int, max_side_px: int | None = None) -> LoadedImage:
    """A TIFF that Pillow cannot open (floating-point colour, 16-bit grey and alpha, planar samples, ...), read with
    tifffile, or with OpenCV where tifffile lacks the codec: its first image, with the same limits, scaling,
    orientation, shrinking and transparency as any photo."""
    import logging

    import tifffile

    quiet = logging.getLogger("tifffile")
    was = quiet.disabled
    quiet.disabled = True  # its warnings about a damaged file would reach stderr; the error below says it
    try:
        with warnings.catch_warnings(), tifffile.TiffFile(io.BytesIO(data)) as tif:
            warnings.simplefilter("ignore")
            page = tif.pages[0]
            shape = tuple(int(x) for x in page.shape)
            planar = len(shape) == 3 and shape[0] in (2, 3, 4) and shape[2] not in (2, 3, 4)
            height, width = (shape[1], shape[2]) if planar else shape[:2]
            samples = shape[0] if planar else shape[2] if len(shape) == 3 else 1
            _check_size(name, width, height, max_pixels)
            pages = len(tif.pages) > 1
            tag = page.tags.get(274)  # Orientation, as EXIF numbers it
            orientation = int(tag.value) if tag is not None and str(tag.value).isdigit() else 1
            missing = _missing_codec(page)
            values = np.asarray(page.asarray()) if missing is None else None
            dtype = page.dtype
    except ImageError:
        raise
    except Exception as exc:  # tifffile's own errors, and any a damaged file makes it raise
        raise ImageError(f"{name}: truncated or damaged image ({type(exc).__name__}: {exc})") from None
    finally:
        quiet.disabled = was
    if missing is not None:
        # A file another decoder reads is not damaged: OpenCV's libtiff has the common codecs (LZW above all)
        try:
            values = _tiff_by_opencv(data, orientation, (height, width), samples, dtype)
        except struct.error:  # a directory cut short: OpenCV could not have read it either
            values = None
        if values is None:
            raise ImageError(f"{name}: a TIFF with {missing}, which hairtrack cannot decode (tifffile needs the "
                             "optional 'imagecodecs' package for it, and OpenCV could not read its samples); save it "
                             "uncompressed or with Deflate (ZIP) compression")
        planar = False  # OpenCV hands samples over interleaved
    if planar:
        values = np.moveaxis(values, 0, -1)
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] not in (1, 2, 3, 4)):
        raise ImageError(f"{name}: a TIFF of {values.shape} samples, not a grey or colour photo")
    notes = ["the file holds more than one image; the first was used"] if pages else []
    alpha = None
    if values.ndim == 3 and values.shape[2] in (2, 4):  # grey or colour, then alpha
        alpha, values = values[..., -1], values[..., :-1]
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    mode = f"TIFF {values.dtype}"
    if values.dtype == np.uint8:
        rgb = np.ascontiguousarray(values if values.ndim == 3 else np.repeat(values[..., None], 3, axis=2))
    else:
        rgb = samples_to_rgb8(values, mode, notes, bit_depth=values.dtype == np.uint16)
    transparent = None
    if alpha is not None:
        opacity = alpha_opacity(alpha)
        rgb = _onto_white(rgb, opacity)
        transparent = _turn_upright((opacity < 0.5)[..., None], orientation)[..., 0]
        transparent = transparent if transparent.any() else None
    rgb, transparent = _shrunk(_turn_upright(rgb, orientation), transparent, max_side_px)
    return LoadedImage(rgb=rgb, format="TIFF", original_mode=mode, warnings=tuple(notes), transparent=transparent)


def alpha_opacity(alpha: np.ndarray) -> np.ndarray:
    """An alpha channel's opacity, 0-1 (float32), by its type's full scale: 255 for 8-bit, 65535 for 16-bit,
    1.0 for floating point (its own top would call a uniformly faint alpha opaque)."""
    alpha = np.asarray(alpha)
    if alpha.dtype == bool:
        return alpha.astype(np.float32)
    if np.issubdtype(alpha.dtype, np.floating):
        return np.clip(np.nan_to_num(alpha.astype(np.float32), nan=0.0), 0.0, 1.0)
    top = int(alpha.max()) if alpha.size else 0  # wider integers holding 8- or 16-bit alpha
    full = 255.0 if alpha.dtype.itemsize == 1 or top <= 255 else 65535.0 if alpha.dtype.itemsize == 2 or top <= 65535 \
        else float(np.iinfo(alpha.dtype).max)
    return np.clip(alpha.astype(np.float32) / full, 0.0, 1.0)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 when absent or unreadable)."""
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    except Exception:  # a damaged EXIF block must not make the photo unusable
        return 1


def read_photo(path: str | Path) -> bytes:
    """A photo file's bytes, or an ImageError saying why not (messages start with the path as given).

    Bounded: a file over ``MAX_PHOTO_BYTES`` is refused from its size (a 2 GB file named .jpg is not read
    whole to be refused), and a pipe is read no further than that.
    """
    label, path = str(path), Path(path)
    try:
        if not path.exists():
            raise ImageError(f"{label}: no such file")
        if path.is_dir():
            raise ImageError(f"{label}: is a folder, not an image")
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size  # 0 for a pipe
            data = b"" if size > MAX_PHOTO_BYTES else fh.read(MAX_PHOTO_BYTES + 1)
    except OSError as exc:
        raise ImageError(f"{label}: cannot read it ({exc.strerror})") from exc
    if max(size, len(data)) > MAX_PHOTO_BYTES:
        raise ImageError(f"{label}: the file is larger than {MAX_PHOTO_BYTES // 2**20} MB, more than any photo "
                         "hairtrack measures (at most 64 MP)")
    return data


def load_image(
    source: str | Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str | None = None,
    max_side_px: int | None = None,
) -> LoadedImage:
    """Decode a photo into an upright 8-bit RGB array.

    Parameters
    ----------
    source : str, Path or bytes
        A file path, or the file's bytes.
    max_pixels : int
        Refuse images with more pixels than this before decoding them (decompression bombs).
    name : str, optional
        How messages name the image (default: the file name, or "image" for bytes).
    max_side_px : int, optional
        Shrink the image so that its longer side is at most this (a JPEG is decoded at reduced size
        directly, so a large photo never occupies its full size in memory). For overview photos, whose
        measures need no fine detail.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageError
        Empty, unreadable, truncated, too large, too small, or not an image; the message says which.

    Examples
    --------
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("L", (40, 30), 128).save(buffer, "PNG")
    >>> img = load_image(buffer.getvalue())
    >>> img.rgb.shape, img.rgb.dtype.name, img.original_mode
    ((30, 40, 3), 'uint8', 'L')
    """
    if max_pixels <= 0:
        raise InputError(f"max_pixels must be > 0, got {max_pixels}")
    label = name
    name = name or "image"
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        name = label or Path(source).name
        data = read_photo(source)
    if not data:
        raise ImageError(f"{name}: the file is empty (0 bytes)")
    notes: list[str] = []
    with warnings.catch_warnings():
        # We apply our own, lower, limit below; Pillow's bomb warning would only repeat it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow's own notes on damaged parts ("Corrupt EXIF data") would reach stderr between the results;
        # what matters is said by the error or by the photo's measurement
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise ImageError(_too_large(name, str(exc), max_pixels)) from None
        except UnidentifiedImageError:
            if data.startswith(_TIFF_MAGIC):  # TIFFs Pillow does not read: floating-point colour, and others
                return _load_tiff(data, name, max_pixels, max_side_px)
            raise ImageError(f"{name}: not an image hairtrack can read ({_describe_non_image(data)})") from None
        except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
            raise ImageError(f"{name}: truncated or damaged image ({str(exc).strip()})") from None
        width, height = image.size
        _check_size(name, width, height, max_pixels)
        try:
            # Whether there is a second image, not how many: counting them walks a TIFF's whole chain of
            # directories, minutes for 200,000 tiny pages.
            if getattr(image, "is_animated", False):
                notes.append("the file holds more than one image; the first was used")
            sixteen_bit = _sixteen_bit_layout(image)  # from the file's layout, known before loading
            if max_side_px is not None and max(width, height) > max_side_px:
                image.draft("RGB", (max_side_px, max_side_px))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            if sixteen_bit is None:  # (those are decoded by OpenCV below: Pillow's 8-bit copy is not needed)
                image.load()
                if max_side_px is not None and max(image.size) > max_side_px:
                    image.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
            exif, had_gps = _exif_facts(image)
            unsigned_32 = _unsigned_32_bit(image)  # the tags of the file as read, before any turn
            transparent: list[np.ndarray] = []
            if sixteen_bit is not None:
                rgb = _decode_16_bit(data, sixteen_bit, _stored_size(image), _orientation(image), notes, transparent)
                rgb, mask = _shrunk(rgb, transparent[0] if transparent else None, max_side_px)
                transparent = [mask] if mask is not None else []
            else:
                # turned in place: without a turn to make, exif_transpose otherwise returns a copy (2.5 ms a photo)
                ImageOps.exif_transpose(image, in_place=True)
                rgb = _to_rgb8(image, notes, unsigned_32, transparent)
        except Image.DecompressionBombError as exc:
            raise ImageError(_too_large(name, str(exc), max_pixels)) from None
        except (OSError, ValueError, SyntaxError, struct.error, zlib.error, EOFError) as exc:
            raise ImageError(f"{name}: truncated or damaged image ({str(exc).strip()})") from None
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            # Pillow's decoders raise these on some damaged files too (a TIFF with a broken directory chain
            # or tag: found by fuzzing); the photo is as unusable as a truncated one, and the batch goes on
            raise ImageError(f"{name}: truncated or damaged image ({type(exc).__name__}: {exc})") from None
    return LoadedImage(
        rgb=rgb,
        format=image.format or "unknown",
        original_mode=image.mode,
        exif=exif,
        had_gps=had_gps,
        warnings=tuple(notes),
        transparent=transparent[0] if transparent and transparent[0].any() else None,
    )


# -- copies for storage -------------------------------------------------------------------------------------

# JPEG segments kept in a stored copy: JFIF (APP0), the ICC colour profile (APP2 "ICC_PROFILE") and Adobe
# (APP14, which says how to read the colours). EXIF and XMP (APP1: GPS, camera serial, time), the
# multi-picture index (APP2 "MPF"), IPTC (APP13), comments and maker notes go, and so does anything after
# the image's end marker (a second embedded picture with its own EXIF, a motion photo's video).
_JPEG_KEEP_APP = {0xE0, 0xEE}
# PNG chunks kept: the image and how to show its colours. Everything else goes, known or not: text, EXIF
# (eXIf, and the older private exIf/zxIf that carry GPS too), time, content credentials (caBX) and the
# frames of an animated PNG (its first image is the IDAT).
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs"}


def _entropy_end(data: bytes, pos: int) -> int:
    """Index of the first marker after entropy-coded data starting at ``pos`` (stuffed FF00 and RSTn skipped)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise ImageError("damaged JPEG: the image data has no end")
        nxt = data[pos + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
            pos += 1 if nxt == 0xFF else 2
            continue
        return pos


def _strip_jpeg(data: bytes, orientation: int) -> bytes:
    out = bytearray(data[:2])
    if orientation != 1:
        # Keep only the orientation, so that the copy still shows upright without its other metadata.
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        payload = exif.tobytes()  # b"Exif\0\0" + a TIFF block holding one tag
        out += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    pos = 2
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            raise ImageError("damaged JPEG: segment marker expected")
        if data[pos + 1] == 0xFF:  # fill bytes before a marker are allowed
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xD9:  # end of image: nothing after it is kept
            out += b"\xff\xd9"
            return bytes(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out += data[pos : pos + 2]
            pos += 2
            continue
        if pos + 4 > len(data):
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segment = data[pos : pos + 2 + length]
        if marker == 0xDA:  # start of scan: its header, then the entropy-coded data up to the next marker
            end = _entropy_end(data, pos + 2 + length)
            out += data[pos:end]
            pos = end
            continue
        is_app = 0xE0 <= marker <= 0xEF
        keep = (not is_app and marker != 0xFE) or marker in _JPEG_KEEP_APP or (
            marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00"
        )
        if keep:
            out += segment
        pos += 2 + length
    raise ImageError("damaged JPEG: no end of image")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if kind in _PNG_KEEP:
            out += chunk
        pos += 12 + length
        if kind == b"IEND":
            break
    return bytes(out)


def sanitized_copy(data: bytes) -> tuple[bytes, str]:
    """The bytes to store for a photo, with location, camera and time metadata removed.

    JPEG and PNG keep their pixels bit for bit (only metadata segments are dropped; a JPEG keeps its
    orientation tag). Other formats (HEIC, TIFF, WebP, ...) are stored as lossless PNG of the upright
    pixels. Returns ``(bytes, extension)``.

    Examples
    --------
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (32, 32), (200, 150, 120)).save(buffer, "JPEG", comment=b"secret")
    >>> clean, ext = sanitized_copy(buffer.getvalue())
    >>> ext, b"secret" in clean, load_image(clean).rgb.shape
    ('jpg', False, (32, 32, 3))
    """
    loaded = load_image(data)  # validates: a copy is only made of a usable photo
    with Image.open(io.BytesIO(data)) as image:
        orientation = _orientation(image)
    if loaded.format == "JPEG":
        return _strip_jpeg(data, orientation), "jpg"
    if loaded.format == "PNG" and orientation == 1 and loaded.original_mode in ("RGB", "RGBA", "L", "LA", "P"):
        return _strip_png(data), "png"
    buffer = io.BytesIO()
    Image.fromarray(loaded.rgb).save(buffer, "PNG", optimize=False)
    return buffer.getvalue(), "png"

"""Loading photos: formats, orientation, bit depth, metadata stripping and every kind of bad file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import ExifTags, Image

from hairtrack.imaging.io import ImageError, load_image, sanitized_copy
from tests.helpers import png_header_only


def encode(array: np.ndarray, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def marked(rows: int = 40, cols: int = 60) -> np.ndarray:
    """An image whose top band is red, so that orientation is visible."""
    rgb = np.full((rows, cols, 3), 90, np.uint8)
    rgb[:8, :, 0] = 250
    return rgb


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP", "HEIF"])
def test_common_formats_decode_to_upright_rgb8(fmt: str) -> None:
    loaded = load_image(encode(marked(), fmt))
    assert loaded.rgb.shape == (40, 60, 3) and loaded.rgb.dtype == np.uint8
    assert loaded.rgb[:8, :, 0].mean() > 200 > loaded.rgb[20:, :, 0].mean()


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: display rotated 90 degrees clockwise
    loaded = load_image(encode(marked(), "JPEG", exif=exif.tobytes(), quality=95))
    assert loaded.rgb.shape == (60, 40, 3)
    assert loaded.rgb[:, -8:, 0].mean() > 200  # the red band is now on the right


def test_grey_and_16_bit_images_become_rgb8() -> None:
    grey = load_image(encode(np.full((32, 32), 77, np.uint8), "PNG"))
    assert grey.original_mode == "L" and (grey.rgb == 77).all()
    ramp = (np.arange(64 * 64).reshape(64, 64)).astype(np.uint16)  # 0-4095: a 12-bit sensor's samples
    deep = load_image(encode(ramp, "PNG"))
    assert deep.rgb.max() == 255 and deep.rgb.min() == 0 and "12-bit range" in deep.warnings[0]
    np.testing.assert_array_equal(deep.rgb[..., 0], deep.rgb[..., 2])
    hot = ramp.copy()
    hot[0, 0] = 65535  # one hot pixel at the top of the container: it was the scale, and the photo went black
    np.testing.assert_array_equal(load_image(encode(hot, "PNG")).rgb[1:], deep.rgb[1:])
    full = (ramp.astype(np.uint32) * 12).astype(np.uint16)  # a dim photo using 16 bits stays dim, not stretched
    assert load_image(encode(full, "PNG")).rgb.max() == round(4095 * 12 / 257)


@pytest.mark.parametrize("fmt", [".png", ".tif"])
@pytest.mark.parametrize("alpha", [False, True])
def test_16_bit_colour_keeps_its_tones(fmt: str, alpha: bool) -> None:
    """Pillow opens 16-bit colour as 8-bit by keeping each sample's high byte: a 12-bit photo in 16-bit samples
    (0-4095) came out nearly black and measured no hairs."""
    import cv2

    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    for factor, depth in ((16, "12-bit"), (257, "16-bit")):
        samples = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.uint16) * factor
        if alpha:
            samples = np.dstack([samples, np.full(rgb.shape[:2], 65535, np.uint16)])
        loaded = load_image(cv2.imencode(fmt, samples)[1].tobytes())
        assert np.abs(loaded.rgb.astype(int) - rgb).max() <= 1, (fmt, factor)
        assert depth in loaded.warnings[0]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16_bit_colour_is_turned_upright_like_any_photo(orientation: int) -> None:
    import cv2

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    eight = load_image(encode(marked(), "PNG", exif=exif.tobytes()))
    sixteen = cv2.imencode(".png", cv2.cvtColor(marked(), cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)[1].tobytes()
    at = sixteen.index(b"IDAT") - 4  # the orientation goes in an eXIf chunk before the pixels
    loaded = load_image(sixteen[:at] + _png_chunk(b"eXIf", exif.tobytes()[6:]) + sixteen[at:])
    assert "16-bit" in loaded.warnings[0]
    np.testing.assert_array_equal(loaded.rgb, eight.rgb)


@pytest.mark.parametrize("dtype", [np.uint32, np.int32])
def test_32_bit_tiffs_keep_their_tones(dtype: type) -> None:
    """Pillow reads unsigned 32-bit TIFF samples as signed: the bright half came out black before."""
    import tifffile

    ramp = np.arange(64 * 64, dtype=np.int64).reshape(64, 64) * 1_000_000
    if dtype is np.int32:
        ramp -= 2_000_000_000  # signed samples, half of them negative
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, ramp.astype(dtype))
    loaded = load_image(buffer.getvalue())
    grey = loaded.rgb[..., 0].astype(int)
    assert grey.min() == 0 and grey.max() == 255
    assert np.all(np.diff(grey.ravel()) >= 0)  # still a ramp: no wrap-around to black
    assert grey.ravel()[grey.size // 4] > 32  # a quarter up the ramp is not black (negative samples were)
    assert "scaled to 8 bits" in loaded.warnings[0]


def test_gps_and_camera_metadata_never_reach_a_stored_copy() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = 3
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0)}
    original = encode(marked(), "JPEG", exif=exif.tobytes(), quality=95, comment=b"patient 17")
    loaded = load_image(original)
    assert loaded.had_gps and loaded.exif["Make"] == "SecretCam"
    clean, ext = sanitized_copy(original)
    assert ext == "jpg" and b"SecretCam" not in clean and b"patient 17" not in clean
    again = load_image(clean)
    assert not again.had_gps and again.exif == {}
    np.testing.assert_array_equal(again.rgb, loaded.rgb)  # same pixels, still upright


def test_png_copy_keeps_pixels_and_drops_text_chunks() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "52.52N 13.40E")
    original = encode(marked(), "PNG", pnginfo=info)
    clean, ext = sanitized_copy(original)
    assert ext == "png" and b"52.52N" in original and b"52.52N" not in clean
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(original).rgb)


def test_png_copy_keeps_only_the_chunks_that_draw_the_image() -> None:
    """Old private EXIF chunks (exIf, zxIf) carry GPS as eXIf does, and content credentials (caBX) name the
    camera and owner: any chunk not needed to draw the picture goes, known or not."""
    original = encode(marked(), "PNG")
    end = original.rindex(b"IEND") - 4
    extra = b"".join(_png_chunk(k, b"Apple GPS 52.52N 13.40E") for k in (b"exIf", b"zxIf", b"caBX", b"prVt"))
    tagged = original[:end] + extra + original[end:]
    clean, ext = sanitized_copy(tagged)
    assert ext == "png" and b"52.52N" in tagged and b"52.52N" not in clean
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(tagged).rgb)


def test_a_file_of_many_pages_is_read_without_counting_them() -> None:
    """Counting the pages walks a TIFF's whole chain of directories (200,000 tiny pages took four minutes);
    that there is more than one is all the note needs."""
    pages = [Image.fromarray(marked()) for _ in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    loaded = load_image(buffer.getvalue())
    assert loaded.warnings == ("the file holds more than one image; the first was used",)
    assert load_image(encode(marked(), "TIFF")).warnings == ()


def test_heic_copy_is_stored_as_lossless_png() -> None:
    original = encode(marked(), "HEIF")
    clean, ext = sanitized_copy(original)
    assert ext == "png"
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(original).rgb)


def test_each_bad_file_gets_its_own_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    jpeg = encode(marked(400, 400), "JPEG")
    cases = {
        b"": "the file is empty",
        b"date,zone\n2025-01-01,crown\n": "not an image hairtrack can read (it looks like a text file)",
        b"%PDF-1.7 ...": "not an image hairtrack can read (it is a PDF)",
        jpeg[: len(jpeg) // 2]: "truncated or damaged image",
        encode(np.zeros((1, 1, 3), np.uint8), "PNG"): "1 x 1 px is too small",
        png_header_only(30_000, 30_000): "900 MP is above the 64 MP limit; refused without decoding",
    }
    for data, message in cases.items():
        with pytest.raises(ImageError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_image(data)
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


def test_a_tiff_with_a_broken_directory_chain_gives_its_first_image_not_a_crash() -> None:
    """A TIFF whose next-directory pointer lands in the pixels (found by fuzzing) made Pillow raise TypeError
    while the pages were counted. The pages are no longer walked: the first image, intact, is the photo, for the
    copy too, and the note says there may be more."""
    import struct

    data = bytearray(encode(np.full((64, 64, 3), 120, np.uint8), "TIFF"))
    ifd = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, ifd)[0]
    struct.pack_into("<I", data, ifd + 2 + 12 * entries, 8 + 100)  # the next directory: inside the pixels
    loaded = load_image(bytes(data))
    assert (loaded.rgb == 120).all() and "more than one image" in loaded.warnings[0]
    clean, ext = sanitized_copy(bytes(data))
    assert ext == "png" and (load_image(clean).rgb == 120).all()


def test_pixel_limit_is_configurable() -> None:
    data = encode(marked(100, 100), "PNG")
    assert load_image(data, max_pixels=10_000).rgb.shape == (100, 100, 3)
    with pytest.raises(ImageError, match="100 x 100 px"):
        load_image(data, max_pixels=9_999)


def test_jpeg_copy_drops_what_follows_the_image_and_keeps_only_the_icc_profile() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SECRETCAM"
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0)}
    main = encode(marked(), "JPEG", quality=95)
    hidden = encode(marked(), "JPEG", exif=exif.tobytes())  # e.g. a depth map or gain map with its own EXIF
    clean, _ = sanitized_copy(main + hidden + b"MOTIONPHOTO-TRAILER")
    assert b"SECRETCAM" not in clean and b"TRAILER" not in clean and clean.endswith(b"\xff\xd9")
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(main).rgb)


def test_progressive_jpeg_and_fill_bytes_survive_the_copy() -> None:
    progressive = encode(marked(64, 80), "JPEG", progressive=True, quality=90)
    clean, _ = sanitized_copy(progressive)
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(progressive).rgb)
    padded = progressive[:2] + b"\xff\xff" + progressive[2:]  # fill bytes before the first segment's marker
    clean, _ = sanitized_copy(padded)
    np.testing.assert_array_equal(load_image(clean).rgb, load_image(progressive).rgb)


def test_overview_photos_can_be_decoded_small() -> None:
    big = encode(np.full((3000, 4000, 3), 120, np.uint8), "JPEG")
    small = load_image(big, max_side_px=1600)
    assert max(small.rgb.shape[:2]) <= 1600 and small.rgb.shape[1] > small.rgb.shape[0]


def test_a_file_in_a_folder_that_cannot_be_entered_is_unreadable_not_an_internal_error(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``Path.exists`` raises PermissionError (it does not return False) inside a folder without the right to
    enter it; the batch named that an internal error."""
    import pathlib

    from hairtrack.imaging.io import read_photo

    def refused(self: pathlib.Path, **_: object) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "exists", refused)
    with pytest.raises(ImageError, match=r"secret/a\.jpg: cannot read it \(Permission denied\)"):
        read_photo(tmp_path / "secret" / "a.jpg")


def test_tiffs_pillow_cannot_open_are_read_with_their_tones() -> None:
    """Floating-point colour TIFFs (scientific cameras, image software) were "not a known image format"; a
    [0, 1] float photo keeps its tones (not stretched to its brightest sample)."""
    import tifffile

    rgb = marked()
    for values, planar in ((rgb.astype(np.float32) / 255.0, None), (rgb.astype(np.float64) / 255.0, "separate"),
                           (np.dstack([rgb.astype(np.float32) / 255.0, np.ones(rgb.shape[:2], np.float32)]), None)):
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, values, planarconfig=planar, photometric="rgb")
        loaded = load_image(buffer.getvalue())
        assert np.abs(loaded.rgb.astype(int) - rgb).max() <= 1 and "range 0-1" in loaded.warnings[0]
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((2_000, 40_000, 3), np.float32), photometric="rgb", compression="zlib")
    with pytest.raises(ImageError, match=r"\(80 MP\) is above the 64 MP limit; refused without decoding"):
        load_image(buffer.getvalue())


@pytest.mark.parametrize("fmt, kind", [("HEIF", "HEIC/HEIF"), ("TIFF", "TIFF"), ("WEBP", "WebP"), ("PNG", "PNG")])
def test_a_cut_off_file_is_named_by_what_it_starts_as(fmt: str, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated HEIC or TIFF was "not a known image format"; it is a damaged one of its kind, and no
    library's warning reaches stderr."""
    data = encode(np.random.default_rng(0).integers(0, 255, (200, 200, 3)).astype(np.uint8), fmt)
    for cut in (len(data) // 3, 40):
        with pytest.raises(ImageError) as caught:
            load_image(data[:cut])
        message = str(caught.value)
        assert "truncated or damaged" in message and "not a known image format" not in message, message
        assert message == message.strip()
        if "not an image hairtrack can read" in message:  # the library could not tell what it is: we say it
            assert kind in message
    assert capsys.readouterr().err == ""


def test_a_tiff_read_by_tifffile_is_turned_upright_shrunk_and_its_alpha_read_by_its_type() -> None:
    """The tifffile route ignored the Orientation tag and ``max_side_px`` (overview photos rely on it), and a
    faint 16-bit alpha (3% opaque) scaled by its own top counted as opaque."""
    import tifffile

    rgb = marked(40, 60).astype(np.float32) / 255.0
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgb, photometric="rgb", extratags=[(274, "H", 1, 6, True)])  # turned: 90° clockwise
    loaded = load_image(buffer.getvalue())
    assert loaded.rgb.shape == (60, 40, 3) and loaded.rgb[:, -8:, 0].mean() > 200  # the red band on the right
    assert load_image(buffer.getvalue(), max_side_px=30).rgb.shape == (30, 20, 3)
    faint = np.dstack([rgb, np.full((40, 60), 0.03, np.float32)])
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, faint, photometric="rgb", extrasamples=[2])
    loaded = load_image(buffer.getvalue())
    assert loaded.transparent is not None and loaded.transparent.all() and (loaded.rgb > 240).all()
    from hairtrack.imaging.io import alpha_opacity

    assert alpha_opacity(np.full((2, 2), 2000, np.uint16)).max() == pytest.approx(2000 / 65535)
    assert alpha_opacity(np.full((2, 2), 200, np.int64)).max() == pytest.approx(200 / 255)  # 8-bit in a wide type


# EXIF orientation -> the turn that shows the stored pixels upright, as the EXIF/TIFF standards define it
_UPRIGHT = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def two_sided(rows: int = 40, cols: int = 60) -> np.ndarray:
    """:func:`marked` with a green left band too: each of the eight orientations puts the pair somewhere else."""
    rgb = marked(rows, cols)
    rgb[:, :6, 1] = 250
    return rgb


def upright(array: np.ndarray, orientation: int) -> np.ndarray:
    how = _UPRIGHT[orientation]
    return array if how is None else np.asarray(Image.fromarray(array).transpose(how))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_tiff_is_turned_upright_once_whatever_its_depth(orientation: int, dtype: type) -> None:
    """OpenCV's TIFF decoder turns the samples by the Orientation tag itself, whatever the flags say: 16-bit colour
    TIFFs were turned twice (orientation 6 gave 40 x 60 with the red band at the bottom), and so were their copies."""
    import tifffile

    rgba = np.dstack([two_sided(), np.full((40, 60), 255, np.uint8)])
    rgba[-4:, -4:] = (90, 90, 90, 0)  # a transparent corner: white in the photo, and in the mask
    scale = 257 if dtype is np.uint16 else 1
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgba.astype(dtype) * scale, photometric="rgb", extrasamples=[2],
                     extratags=[(274, "H", 1, orientation, True)])
    expected = two_sided()
    expected[-4:, -4:] = 255
    loaded = load_image(buffer.getvalue())
    np.testing.assert_array_equal(loaded.rgb, upright(expected, orientation))
    np.testing.assert_array_equal(loaded.transparent, upright(rgba[..., 3] == 0, orientation))
    clean, ext = sanitized_copy(buffer.getvalue())
    assert ext == "png"
    np.testing.assert_array_equal(load_image(clean).rgb, upright(expected, orientation))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "HEIF"])
def test_8_bit_photos_are_turned_upright_by_each_orientation(fmt: str, orientation: int) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    loaded = load_image(encode(two_sided(), fmt, exif=exif.tobytes(), **({} if fmt == "PNG" else {"quality": 95})))
    expected = upright(two_sided(), orientation)
    assert loaded.rgb.shape == expected.shape
    assert np.abs(loaded.rgb.astype(int) - expected).mean() < 4  # a wrong turn moves a band: a mean of 10 or more


def _png_grey_alpha_16(samples: np.ndarray) -> bytes:
    """A 16-bit grey and alpha PNG (``samples``: H x W x 2), which Pillow cannot write."""
    import struct
    import zlib

    rows = b"".join(b"\0" + row.tobytes() for row in samples.astype(">u2"))  # filter 0: the samples as they are
    header = struct.pack(">IIBBBBB", samples.shape[1], samples.shape[0], 16, 4, 0, 0, 0)  # 16 bits, grey + alpha
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows))
            + _png_chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_and_alpha_loads_like_16_bit_grey(fmt: str) -> None:
    """A 12-bit grey photo with alpha in 16-bit samples came out nearly black as a PNG (Pillow keeps the high
    byte) and was refused as a TIFF ("a TIFF of (64, 64, 2) samples"); it is 16-bit grey, its transparent part
    white as for 8-bit grey and alpha."""
    import tifffile

    grey = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)  # 0-4095: a 12-bit sensor's samples
    alpha = np.full((64, 64), 65535, np.uint16)
    alpha[:8, -8:] = 0
    if fmt == "PNG":
        data = _png_grey_alpha_16(np.dstack([grey, alpha]))
    else:
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, np.dstack([grey, alpha]), photometric="minisblack", extrasamples=[2])
        data = buffer.getvalue()
    expected = load_image(encode(grey, "PNG")).rgb.copy()  # 16-bit grey, scaled by its 12-bit range
    expected[:8, -8:] = 255
    loaded = load_image(data)
    np.testing.assert_array_equal(loaded.rgb, expected)
    np.testing.assert_array_equal(loaded.transparent, alpha == 0)
    assert "12-bit range" in loaded.warnings[0]


def _with_orientation(tiff: bytes, orientation: int) -> bytes:
    """``tiff`` (classic and little-endian, as OpenCV writes it) with an Orientation tag: its first directory
    copied to the end of the file with the tag added."""
    import struct

    ifd = struct.unpack_from("<I", tiff, 4)[0]
    count = struct.unpack_from("<H", tiff, ifd)[0]
    entries = [tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i] for i in range(count)]
    entries = sorted([e for e in entries if e[:2] != b"\x12\x01"] + [struct.pack("<HHIHH", 274, 3, 1, orientation, 0)])
    pad = b"\0" * (len(tiff) % 2)  # a directory starts on a word boundary
    return (tiff[:4] + struct.pack("<I", len(tiff) + len(pad)) + tiff[8:] + pad + struct.pack("<H", len(entries))
            + b"".join(entries) + b"\0\0\0\0")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_tiff_tifffile_has_no_codec_for_is_read_by_opencv(orientation: int) -> None:
    """An LZW float TIFF was "truncated or damaged (... requires the 'imagecodecs' package)" although OpenCV reads
    it exactly; it is read, turned upright once."""
    import cv2

    rgb = two_sided()
    encoded = cv2.imencode(".tif", np.ascontiguousarray(rgb[..., ::-1], np.float32) / 255.0,
                           [cv2.IMWRITE_TIFF_COMPRESSION, 5])[1].tobytes()  # LZW, with the floating-point predictor
    loaded = load_image(_with_orientation(encoded, orientation))
    assert np.abs(loaded.rgb.astype(int) - upright(rgb, orientation)).max() <= 1
    assert "range 0-1" in loaded.warnings[0]


def test_a_tiff_no_decoder_reads_names_its_compression_not_damage(capfd: pytest.CaptureFixture[str]) -> None:
    """A compression nothing installed decodes is named, with what would read it; the file is not damaged."""
    import struct

    import cv2
    import tifffile

    encoded = cv2.imencode(".tif", np.ascontiguousarray(marked()[..., ::-1], np.float32) / 255.0,
                           [cv2.IMWRITE_TIFF_COMPRESSION, 5])[1].tobytes()
    with tifffile.TiffFile(io.BytesIO(encoded)) as tif:
        at = tif.pages[0].tags[259].valueoffset  # Compression
    data = bytearray(encoded)
    struct.pack_into("<H", data, at, 34887)  # LERC: neither tifffile (without imagecodecs) nor OpenCV decodes it
    with pytest.raises(ImageError, match=r"compression LERC.*imagecodecs") as caught:
        load_image(bytes(data))
    assert "damaged" not in str(caught.value)
    assert capfd.readouterr().err == ""  # libtiff's complaints, through OpenCV's log, stay off stderr


def test_16_bit_samples_are_scaled_without_a_copy_eight_times_their_size() -> None:
    """np.bincount and indexing turn their whole input into int64: 8 bytes a sample, 1.5 GB more for a 64 MP
    RGB photo, on a path kept to avoid a large copy."""
    import tracemalloc

    from hairtrack.imaging.io import samples_to_rgb8

    bgra = np.random.default_rng(0).integers(0, 4096, (1000, 1000, 4)).astype(np.uint16)
    tracemalloc.start()
    try:
        rgb = samples_to_rgb8(bgra[..., 2::-1], "RGB;16", [], bit_depth=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * rgb.nbytes  # the 8-bit result and a few row blocks
    assert rgb.dtype == np.uint8 and np.array_equal(rgb[..., 0], np.round(bgra[..., 2] * (255 / 4095)))


def test_samples_with_no_pixels_give_an_empty_picture_not_a_crash():
    from hairtrack.imaging.io import samples_to_rgb8

    for values, mode in ((np.zeros((0, 5, 3), np.uint16), "RGB;16"), (np.zeros((4, 0), np.float32), "F")):
        out = samples_to_rgb8(values, mode, [], bit_depth=values.dtype == np.uint16)
        assert out.shape == values.shape[:2] + (3,) and out.dtype == np.uint8

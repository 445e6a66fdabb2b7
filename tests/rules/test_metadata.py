"""Stripping location and device data from images as their bytes pass: what goes, what stays
byte for byte, and the same output however the bytes arrive."""

from __future__ import annotations

import io
import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from flask_dropzone._rules import metadata
from flask_dropzone._rules.metadata import Damaged, strip

from support import photos
from support.properties import examples


def stripped(data: bytes, piece: int = 1 << 20) -> bytes:
    return b"".join(strip([data[i : i + piece] for i in range(0, len(data), piece)], data[:8192]))


def assert_no_secrets(data: bytes) -> None:
    for secret in photos.SECRETS:
        assert secret not in data, secret
    with Image.open(io.BytesIO(data)) as image:
        found = image.getexif()
        assert set(found) <= {0x0112}  # nothing but the orientation
        assert not found.get_ifd(0x8825) and not found.get_ifd(0x8769)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_a_jpeg_loses_location_device_time_xmp_iptc_and_comments(progressive):
    original = photos.jpeg(progressive)
    for secret in photos.SECRETS:
        assert secret in original, secret  # the photo carries them all
    assert_no_secrets(stripped(original))


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_a_jpeg_keeps_its_orientation_icc_profile_and_scan_data(progressive):
    original = photos.jpeg(progressive)
    result = stripped(original)
    with Image.open(io.BytesIO(result)) as image:
        assert image.getexif()[0x0112] == photos.ORIENTATION
        assert image.info["icc_profile"] == photos.ICC
    assert result.count(b"\xff\xe2") == original.count(b"ICC_PROFILE") == 2
    assert photos.scan_data(result) == photos.scan_data(original)
    assert photos.decoded(result) == photos.decoded(original)


def test_a_jpeg_keeps_every_icc_segment_byte_for_byte():
    original = photos.jpeg()
    starts = [m.start() - 4 for m in re.finditer(rb"ICC_PROFILE\0", original)]
    icc = [
        original[at : at + 2 + struct.unpack(">H", original[at + 2 : at + 4])[0]] for at in starts
    ]
    assert all(part.startswith(b"\xff\xe2") for part in icc)  # each an APP2 segment
    result = stripped(original)
    assert len(icc) == 2 and all(part in result for part in icc)


def test_a_jpeg_without_orientation_gets_no_exif():
    original = io.BytesIO()
    photos.picture().save(original, "JPEG", exif=Image.Exif().tobytes() + b"", quality=90)
    data = original.getvalue()
    exif = Image.Exif()
    exif[0x010F] = "Pixelphone"
    with_make = io.BytesIO()
    photos.picture().save(with_make, "JPEG", exif=exif.tobytes())
    result = stripped(with_make.getvalue())
    assert b"Exif" not in result and b"Pixelphone" not in result
    assert stripped(data).startswith(b"\xff\xd8")


def test_what_follows_the_end_of_a_jpeg_is_dropped():
    original = photos.jpeg()
    result = stripped(original)
    assert original.endswith(b"Pixelphone\xff\xd9")  # a second image, with its own Exif
    assert result.endswith(photos.scan_data(original)) and b"Pixelphone" not in result


def test_a_png_loses_exif_text_and_time_and_keeps_every_other_chunk():
    original = photos.png()
    for secret in (b"taken at home", b"geo:52.2297", b"SN-4411-2207", b"tIME"):
        assert secret in original
    result = stripped(original, piece=7)
    assert_no_secrets(result)
    assert b"tIME" not in result and b"eXIf" not in result
    for kind in (b"IHDR", b"iCCP", b"IDAT", b"IEND"):
        at = original.index(kind) - 4
        length = struct.unpack_from(">I", original, at)[0]
        assert original[at : at + 12 + length] in result
    with Image.open(io.BytesIO(result)) as image:
        assert image.info["icc_profile"] == photos.ICC
    assert photos.decoded(result) == photos.decoded(original)


def test_an_extended_webp_loses_exif_and_xmp_and_its_header_says_so():
    original = photos.webp()
    kinds = [kind for kind, _ in photos.chunks_of(original)]
    assert kinds[0] == b"VP8X" and b"EXIF" in kinds and b"XMP " in kinds and b"ICCP" in kinds
    assert original[20] & 0x0C == 0x0C  # the header announces Exif and XMP
    result = stripped(original, piece=13)
    assert_no_secrets(result)
    assert b"geo:52.2297" not in result
    chunks = dict(photos.chunks_of(result))
    assert b"EXIF" not in chunks and b"XMP " not in chunks
    assert (
        chunks[b"ICCP"] == photos.ICC
        and chunks[b"VP8L"] == dict(photos.chunks_of(original))[b"VP8L"]
    )
    assert result[20] & 0x0C == 0 and result[20] & 0x20  # Exif and XMP gone, ICC still there
    assert struct.unpack_from("<I", result, 4)[0] == len(result) - 8
    with Image.open(io.BytesIO(result)) as image:
        assert image.info["icc_profile"] == photos.ICC
    assert photos.decoded(result) == photos.decoded(original)


@pytest.mark.fuzz
@settings(max_examples=examples(60, 2_000))
@given(
    kind=st.sampled_from(["jpeg", "progressive", "png", "webp"]),
    cuts=st.lists(st.integers(0, 1 << 17), max_size=40),
    after_ff=st.lists(st.integers(0, 1 << 17), max_size=20),
)
def test_the_output_is_the_same_however_the_bytes_arrive(kind, cuts, after_ff):
    data = PHOTOS[kind]
    marks = MARKS[kind]  # a cut right after a 0xFF splits a marker from its code
    points = sorted(
        {
            0,
            len(data),
            *(cut % (len(data) + 1) for cut in cuts),
            *(marks[at % len(marks)] for at in after_ff),
        }
    )
    pieces = [data[a:b] for a, b in zip(points, points[1:])]
    assert b"".join(strip(pieces, data[:8192])) == WHOLE[kind]


PHOTOS = {
    "jpeg": photos.jpeg(),
    "progressive": photos.jpeg(progressive=True),
    "png": photos.png(),
    "webp": photos.webp(),
}
WHOLE = {kind: stripped(data) for kind, data in PHOTOS.items()}
MARKS = {
    kind: [at + 1 for at in range(len(data)) if data[at] == 0xFF] for kind, data in PHOTOS.items()
}


@pytest.mark.parametrize("kind", sorted(PHOTOS))
def test_a_truncated_image_is_damaged(kind):
    data = PHOTOS[kind]
    with pytest.raises(Damaged, match="ends early"):
        stripped(data[: len(data) // 2])


def test_a_jpeg_segment_shorter_than_its_length_field_is_damaged():
    data = PHOTOS["jpeg"]
    at = data.index(b"\xff\xdb")
    with pytest.raises(Damaged, match="below 2"):
        stripped(data[: at + 2] + b"\x00\x01" + data[at + 4 :])


def test_a_png_chunk_with_a_bad_type_is_damaged():
    data = PHOTOS["png"]
    at = data.index(b"IDAT")
    with pytest.raises(Damaged):
        stripped(data[:at] + b"ID\x00T" + data[at + 4 :])


def test_a_webp_chunk_past_the_end_is_damaged():
    data = PHOTOS["webp"]
    with pytest.raises(Damaged):
        stripped(data[:16] + b"\xff\xff\xff\x00" + data[20:])


def test_other_files_pass_as_they_are():
    for data in (b"GIF89a" + b"\x00" * 40, b"%PDF-1.7 taken at home", b""):
        assert stripped(data) == data


@pytest.mark.parametrize(
    "mimetype, refused",
    [
        ("image/tiff", True),
        ("image/heic", True),
        ("image/avif", True),
        ("image/jpeg", False),
        ("image/gif", False),
        ("application/pdf", False),
    ],
)
def test_types_that_cannot_be_stripped_are_refused(mimetype, refused):
    assert metadata.refuses(mimetype) is refused

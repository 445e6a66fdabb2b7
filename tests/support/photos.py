"""Images built as phones and cameras write them: Exif with a GPS IFD, the device's make, model,
serial number and lens, the capture time and maker notes; an ICC profile, XMP, IPTC and a
comment; PNG text chunks; an extended WebP. Each secret is a string a test looks for."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

from PIL import Image

#: Strings that must not survive stripping, each written somewhere in the images below.
SECRETS = (
    b"Pixelphone",  # make
    b"Model 9 Pro",  # model
    b"SN-4411-2207",  # body serial number
    b"Wide 26mm f/1.8",  # lens
    b"2024:05:06 07:08:09",  # capture time
    b"MAKERNOTE-secret",  # maker notes
    b"geo:52.2297",  # XMP location
    b"Warsaw",  # IPTC city
    b"taken at home",  # comment / text chunk
    b"MPF\x00",  # a second image's index
)
#: The GPS latitude written (degrees, minutes, seconds).
LATITUDE = (52.0, 13.0, 47.0)
ORIENTATION = 6
#: An ICC profile larger than one JPEG segment holds (written in two APP2 segments).
ICC = b"ICCPROFILE" + bytes(range(256)) * 300


def exif(orientation: int = ORIENTATION) -> bytes:
    """A phone's Exif (a big-endian TIFF), written here byte by byte: Pillow's own writer
    dropped the sub-IFDs' entries before 10.2, and the tests run at Pillow's floor too."""
    details = [
        (0x9003, 2, b"2024:05:06 07:08:09\x00"),  # DateTimeOriginal
        (0xA431, 2, b"SN-4411-2207\x00"),  # BodySerialNumber
        (0xA434, 2, b"Wide 26mm f/1.8\x00"),  # LensModel
        (0x927C, 7, b"MAKERNOTE-secret" * 20),  # MakerNote
    ]
    gps = [
        (1, 2, b"N\x00"),
        (2, 5, _rationals(LATITUDE)),
        (3, 2, b"E\x00"),
        (4, 5, _rationals((21.0, 0.0, 42.0))),
    ]
    top = [
        (0x010F, 2, b"Pixelphone\x00"),  # Make
        (0x0110, 2, b"Model 9 Pro\x00"),  # Model
        (0x0112, 3, struct.pack(">H", orientation) + b"\x00\x00"),  # Orientation
        (0x0132, 2, b"2024:05:06 07:08:09\x00"),  # DateTime
    ]
    # IFD0 at 8, then the Exif IFD, then the GPS IFD, each followed by its values.
    first = 8
    details_at = first + _ifd_size(top, 2)
    gps_at = details_at + _ifd_size(details, 0)
    top += [(0x8769, 4, struct.pack(">I", details_at)), (0x8825, 4, struct.pack(">I", gps_at))]
    return (  # as Pillow's Exif.tobytes() gives it: Exif's header, then the TIFF
        b"Exif\x00\x00MM\x00\x2a"
        + struct.pack(">I", first)
        + _ifd(top, first)
        + _ifd(details, details_at)
        + _ifd(gps, gps_at)
    )


#: Bytes a value of each TIFF type takes: ASCII, SHORT, LONG, RATIONAL, UNDEFINED.
_UNIT = {2: 1, 3: 2, 4: 4, 5: 8, 7: 1}


def _rationals(values) -> bytes:
    return b"".join(struct.pack(">II", int(value * 100), 100) for value in values)


def _ifd_size(entries, more: int) -> int:
    """An IFD's bytes with its values, ``more`` entries of four bytes still to come."""
    values = sum(len(value) for _, _, value in entries if len(value) > 4)
    return 2 + 12 * (len(entries) + more) + 4 + values


def _ifd(entries, at: int) -> bytes:
    """An IFD written at offset ``at``, its long values right after it, in tag order."""
    entries = sorted(entries)
    table, values = [], b""
    after = at + 2 + 12 * len(entries) + 4
    for tag, kind, value in entries:
        count = len(value) // _UNIT[kind] if kind != 3 else 1
        if len(value) > 4:
            field = struct.pack(">I", after + len(values))
            values += value
        else:
            field = value.ljust(4, b"\x00")
        table.append(struct.pack(">HHI", tag, kind, count) + field)
    return struct.pack(">H", len(entries)) + b"".join(table) + b"\x00\x00\x00\x00" + values


def picture(width: int = 96, height: int = 64) -> Image.Image:
    """A picture of the size: a pattern, or noise once large (a large JPEG of it)."""
    if width * height > 100_000:
        noise = [Image.effect_noise((width, height), sigma) for sigma in (40, 60, 80)]
        return Image.merge("RGB", noise)
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 7) % 256, (y * 11) % 256, (x * y) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


#: Segments a camera or an editor adds beside Exif: XMP, IPTC, a comment, MPF.
EXTRA_SEGMENTS = (
    _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>geo:52.2297</x:xmpmeta>")
    + _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0a\x1c\x02\x5aWarsaw")
    + _segment(0xFE, b"taken at home")
    + _segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    + _segment(0xEB, b"JP\x00\x00HDR gain map of Pixelphone")
)


def jpeg(progressive: bool = False, orientation: int = ORIENTATION, size=(96, 64)) -> bytes:
    """A photo's JPEG: Exif (GPS, device, time, maker notes) and the ICC profile as Pillow
    writes them, then XMP, IPTC, a comment and MPF after them, and a second image after the
    end of the first (as phones append one)."""
    out = io.BytesIO()
    picture(*size).save(
        out,
        "JPEG",
        exif=exif(orientation),
        icc_profile=ICC,
        progressive=progressive,
        quality=90,
    )
    data = out.getvalue()
    first_table = data.index(b"\xff\xdb")  # Pillow writes APPn first, then the tables
    trailer = b"\xff\xd8" + _segment(0xE1, b"Exif\x00\x00MM\x00*Pixelphone") + b"\xff\xd9"
    return data[:first_table] + EXTRA_SEGMENTS + data[first_table:] + trailer


def scan_data(data: bytes) -> bytes:
    """Every byte from the first start of scan to the end of the image."""
    start = data.index(b"\xff\xda")
    return data[start : data.index(b"\xff\xd9", start) + 2]  # 0xFF 0xD9 never stands in a scan


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png() -> bytes:
    """A PNG with an ICC profile, Exif, text in its three forms and a time."""
    out = io.BytesIO()
    picture().save(out, "PNG", icc_profile=ICC, exif=exif())
    data = out.getvalue()
    idat = data.index(b"IDAT") - 4
    text = (
        _chunk(b"tEXt", b"Comment\x00taken at home")
        + _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00geo:52.2297")
        + _chunk(b"zTXt", b"Author\x00\x00" + zlib.compress(b"Pixelphone"))
        + _chunk(b"tIME", b"\x07\xe8\x05\x06\x07\x08\x09")
    )
    return data[:idat] + text + data[idat:]


def webp() -> bytes:
    """An extended WebP (VP8X) with an ICC profile, Exif and XMP."""
    out = io.BytesIO()
    picture().save(
        out, "WEBP", icc_profile=ICC, exif=exif(), xmp=b"<x>geo:52.2297</x>", lossless=True
    )
    return out.getvalue()


def chunks_of(data: bytes) -> list[tuple[bytes, bytes]]:
    """A RIFF file's chunks, (fourcc, payload)."""
    found, at = [], 12
    while at < len(data):
        kind, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        found.append((kind, data[at + 8 : at + 8 + size]))
        at += 8 + size + (size & 1)
    return found


def decoded(data: bytes) -> bytes:
    """The pixels (Pillow warns of the photos' MPF index, which indexes no second image)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB").tobytes()

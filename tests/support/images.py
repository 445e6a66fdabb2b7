"""Images for the variants' tests, made here (Pillow, the ``images`` extra): photos with the
structure phones give them, and hostile ones (bombs, truncated, odd modes, huge EXIF)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def variants_app(make_app, storage: str = "disk", **config):
    """An app that stores uploads (``/upload``) and sends them (``/files/<name>``) and their
    variants (``/files/<name>/<variant>``)."""
    app = make_app(storage, WTF_CSRF_ENABLED=False, **config)
    dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return dropzone.answer(dropzone.save())

    @app.get("/files/<name>/<variant>")
    def variant(name, variant):
        return dropzone.send_stored(name, variant=variant)

    @app.get("/files/<name>")
    def whole(name):
        return dropzone.send_stored(name)

    return app


#: EXIF's orientation tag, and the value of a phone held upright (the picture turned 90°).
ORIENTATION, TURNED = 0x0112, 6


def jpeg(size=(400, 200), color=(200, 30, 30), orientation=None, mode="RGB", **options) -> bytes:
    """A JPEG of one colour, with an EXIF orientation (and a GPS tag) when given."""
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        exif[0x010F] = "PhoneMaker"  # Make
        options["exif"] = exif.tobytes()
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def png(size=(300, 300), mode="RGBA", color=(0, 120, 255, 128), **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG", **options)
    return out.getvalue()


def animated_gif(size=(120, 60)) -> bytes:
    """Two frames: red, then blue."""
    frames = [Image.new("RGB", size, (255, 0, 0)), Image.new("RGB", size, (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header declares ``width`` x ``height`` grey pixels
    (the first rows only are there: a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 2, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header says ``width`` x ``height`` (at most 65535 a side)."""
    data = bytearray(jpeg((16, 16)))
    at = data.index(b"\xff\xc0")  # baseline frame: length, precision, height, width
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_16bit_grey(size=(64, 32), value=0x8000) -> bytes:
    """A 16-bit greyscale PNG, every pixel ``value`` (half-way: grey 128 in 8 bits)."""
    image = Image.new("I;16", size, value)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_with_exif(size=(100, 50), exif_bytes=8 * 1024 * 1024) -> bytes:
    """An opaque PNG carrying an eXIf chunk of ``exif_bytes`` bytes of nonsense after a TIFF
    header (a huge, unreadable EXIF block)."""
    image = png(size, "RGB", (10, 200, 10))
    block = b"MM\x00\x2a\x00\x00\x00\x08" + b"\xff" * exif_bytes
    end = image.rindex(b"IEND") - 4
    return image[:end] + _chunk(b"eXIf", block) + image[end:]


def jpeg_with_app1(size=(100, 50)) -> bytes:
    """A JPEG whose EXIF (APP1) is a full segment of garbage after its header."""
    data = jpeg(size)
    segment = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + b"\xfe" * (65533 - 16)
    app1 = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    return data[:2] + app1 + data[2:]


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image

"""Variants of stored images (a thumbnail, ...), the plain logic: the ``DROPZONE_VARIANTS``
setting, and the picture of a variant made from an image's bytes by Pillow (the ``images``
extra), imported only when a variant is made.

A variant fits within its box and keeps the aspect ratio; it is upright (the EXIF
orientation applied), the first frame of an animation, and carries no metadata at all (no
EXIF, no ICC profile, no text): a new image of the pixels only. An opaque image gives a
JPEG, one with transparency a PNG.

An image is judged by its header before any pixel is decoded: more than
:data:`MAX_PIXELS` pixels (a decompression bomb: a small file declaring a huge picture),
a type other than :data:`SOURCE_FORMATS`, or a file Pillow cannot read (truncated,
corrupt) makes no variant. A JPEG is decoded at the smallest scale its decoder offers that
still covers the box.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
from dataclasses import dataclass
from typing import IO, Any, Mapping, Optional

from flask import Flask

from . import signing
from .settings import SettingError

#: Named sizes of the variants ``send_stored(..., variant=name)`` sends, each a dict with
#: the ``width`` and ``height`` of the box it fits within (whole pixels, 1 to 4096); made
#: once, on first request, and kept in the store beside their file. They need Pillow (the
#: ``images`` extra); without it a variant is a 404. ``{}``: no variants.
VARIANTS = "DROPZONE_VARIANTS"
DEFAULT_VARIANTS: Mapping[str, Mapping[str, int]] = {"thumbnail": {"width": 240, "height": 240}}
#: The variant an existing file of a zone or form field is shown by, when configured.
THUMBNAIL = "thumbnail"
#: The largest side of a variant's box.
MAX_SIDE = 4096
#: The most pixels an image may declare to get a variant (50 megapixels: a 8660 x 5773
#: photo). Checked on its header before anything is decoded: a larger one is refused.
MAX_PIXELS = 50_000_000
#: The most bytes of a stored file read to make a variant from a store that cannot seek.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
#: What Pillow may open: the raster types browsers show, and no other decoder.
SOURCE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
#: Quality of a JPEG variant.
JPEG_QUALITY = 85
#: Bumped when variants are made differently: each stored variant's name carries it.
RECIPE = "2"
#: The hint logged at start-up when variants are set but Pillow is missing.
NO_PILLOW = (
    "DROPZONE_VARIANTS: variants (thumbnails) need Pillow, which is not installed: "
    "pip install 'flask-dropzone[images]'. Until then each variant is a 404."
)


@dataclass(frozen=True)
class Box:
    width: int
    height: int


class NoVariant(Exception):
    """No variant can be made of these bytes: not an image this module reads, too many
    pixels, or a file Pillow cannot decode."""


def variants(config: Mapping[str, Any]) -> dict[str, Box]:
    """The app's ``DROPZONE_VARIANTS``, checked: each name's box; the error names the setting."""
    value = config.get(VARIANTS, DEFAULT_VARIANTS)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingError(f"{VARIANTS} must be a dict of names to boxes, got {value!r}")
    found = {}
    for name, box in value.items():
        where = f"{VARIANTS}[{name!r}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise SettingError(f"{where}: a variant's name is a word such as 'thumbnail'")
        if not isinstance(box, Mapping) or set(box) != {"width", "height"}:
            raise SettingError(f"{where} must be a dict with 'width' and 'height', got {box!r}")
        sides = [box["width"], box["height"]]
        if not all(type(side) is int and 1 <= side <= MAX_SIDE for side in sides):
            raise SettingError(f"{where}: width and height are whole pixels, 1 to {MAX_SIDE}")
        found[name] = Box(*sides)
    return found


def default_variants() -> dict[str, dict[str, int]]:
    """A new app's ``DROPZONE_VARIANTS`` (its own copy: an app may change it)."""
    return copy.deepcopy(dict(DEFAULT_VARIANTS))  # type: ignore[arg-type]


def available() -> bool:
    """Whether Pillow can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec("PIL") is not None
    except (ImportError, ValueError):  # a stub module without a spec: not usable
        return False


def stored_name(variant: str, box: Box, version: str) -> str:
    """The name a variant is kept under beside its file: its name, and a hash of the file's
    version, the box and the recipe (a file stored again, or a box changed, makes another)."""
    facts = f"{version}|{box.width}x{box.height}|{RECIPE}".encode()
    return f"{variant}-{hashlib.blake2b(facts, digest_size=10).hexdigest()}"


#: Output type by format, and the name's extension a browser gives it.
TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}


def make(source: IO[bytes], box: Box) -> tuple[bytes, str]:
    """The variant of the image ``source`` (seekable) fitting ``box``: its bytes and type.
    NoVariant when none can be made (never Pillow's own errors)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source, formats=SOURCE_FORMATS) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > MAX_PIXELS:
                raise NoVariant(f"{width}x{height} is more than {MAX_PIXELS} pixels")
            orientation = _orientation(image)
            side = max(box.width, box.height)
            if image.format == "JPEG":
                image.draft(None, (side, side))  # decode at 1/2, 1/4 or 1/8 when that covers
            image.seek(0)
            profile = image.info.get("icc_profile")
            picture = _pixels(image)
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise NoVariant(str(error)) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as error:
        raise NoVariant(f"unreadable image: {error}") from None  # truncated, corrupt
    picture = _fit(picture, orientation, box)
    return _encode(picture, _colour_profile(profile, picture.mode))


def read_source(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` itself when it can seek (a file on disk), else its bytes in memory, at
    most :data:`MAX_SOURCE_BYTES` (NoVariant beyond)."""
    seekable = getattr(stream, "seekable", None)
    if callable(seekable) and seekable():
        return stream
    data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise NoVariant(f"more than {MAX_SOURCE_BYTES} bytes")
    return io.BytesIO(data)


#: The transpositions of each EXIF orientation (2 to 8), by Pillow's names.
_ORIENTATIONS = {
    2: ("FLIP_LEFT_RIGHT",),
    3: ("ROTATE_180",),
    4: ("FLIP_TOP_BOTTOM",),
    5: ("TRANSPOSE",),
    6: ("ROTATE_270",),
    7: ("TRANSVERSE",),
    8: ("ROTATE_90",),
}


def _orientation(image: Any) -> int:
    """The EXIF orientation (1 when none, or when the EXIF cannot be read: a corrupt or
    hostile block leaves the picture as stored, never an error)."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001  (any EXIF Pillow cannot parse)
        return 1
    return value if isinstance(value, int) and value in _ORIENTATIONS else 1


def _pixels(image: Any) -> Any:
    """The first frame decoded, as RGB or L, with A where it has transparency; a 16-bit
    grey PNG scaled to 8 bits (Pillow's own conversion clips it)."""
    image.load()
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":  # a 16-bit grey PNG (I in older Pillow)
        grey = image.convert("I") if mode != "I" else image
        return grey.point(lambda value: value * (255 / 65535)).convert("L")
    if mode == "F":
        return image.convert("L")
    if mode in ("P", "PA") or image.info.get("transparency") is not None:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA"):
        return image
    if mode in ("L", "1"):
        return image.convert("L")
    return image.convert("RGB")  # RGB, CMYK, YCbCr, LAB, HSV


def _fit(picture: Any, orientation: int, box: Box) -> Any:
    """``picture`` turned upright, then shrunk (never enlarged) to fit ``box``."""
    from PIL import Image

    for name in _ORIENTATIONS.get(orientation, ()):
        picture = picture.transpose(getattr(Image.Transpose, name))
    picture.thumbnail((box.width, box.height), Image.Resampling.LANCZOS)
    return picture


#: The largest colour profile a variant carries (a display's is about 0.5 KiB to 4 KiB).
MAX_PROFILE = 64 * 1024


def _colour_profile(profile: Any, mode: str) -> Optional[bytes]:
    """The source's ICC profile when it describes the variant's pixels (an RGB one for RGB,
    a grey one for grey) and is whole: a phone's wide-gamut photo keeps its colours. It says
    how to show colours, not where or with what the photo was taken; anything else goes."""
    if not isinstance(profile, bytes) or not 128 <= len(profile) <= MAX_PROFILE:
        return None
    space = b"RGB " if mode in ("RGB", "RGBA") else b"GRAY"
    whole = int.from_bytes(profile[:4], "big") == len(profile) and profile[36:40] == b"acsp"
    return profile if whole and profile[16:20] == space else None


def _encode(picture: Any, profile: Optional[bytes] = None) -> tuple[bytes, str]:
    """A new image of the pixels alone (no ``info`` of the source reaches the encoder) and
    its colour ``profile``: PNG when some pixel is transparent, else JPEG."""
    from PIL import Image

    if picture.mode in ("RGBA", "LA"):
        alpha = picture.getchannel("A")
        if alpha.getextrema()[0] == 255:  # every pixel opaque
            picture = picture.convert("RGB" if picture.mode == "RGBA" else "L")
    clean = Image.frombytes(picture.mode, picture.size, picture.tobytes())
    out = io.BytesIO()
    kind = "PNG" if clean.mode in ("RGBA", "LA") else "JPEG"
    colour = {"icc_profile": profile} if profile else {}
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **colour)
    else:
        clean.save(out, "PNG", optimize=True, **colour)
    return out.getvalue(), TYPES[kind][0]


# Thumbnails of the existing files a page shows ------------------------------------------

#: What a thumbnail URL of an existing file is signed for (its own salt).
SHOWN_PURPOSE = "shown-thumbnail"


@dataclass(frozen=True)
class Shown:
    """An existing file whose thumbnail a page shows: its folder (by its label, no server
    path), its name, a keyed hash of its version, for the one client the page was made for."""

    client: str
    folder: str
    name: str
    version: str


def sign_shown(app: Flask, shown: Shown) -> str:
    payload = {"f": shown.folder, "n": shown.name, "v": shown.version}
    return signing.dumps(app, SHOWN_PURPOSE, payload, shown.client)


def read_shown(app: Flask, token: Any, client: Any, max_age: float) -> Optional[Shown]:
    """The file a thumbnail URL this app signed for ``client`` less than ``max_age`` seconds
    ago names; None for anything else (forged, expired, another client's)."""
    if not isinstance(client, str):
        return None
    read = signing.loads(app, SHOWN_PURPOSE, token, max_age, client)
    if read is None:
        return None
    payload = read[0]
    try:
        return Shown(client, str(payload["f"]), str(payload["n"]), str(payload["v"]))
    except (KeyError, TypeError):
        return None

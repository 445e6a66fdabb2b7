"""Serving stored files back: which names may be served, and the headers a stored file
is sent with. Pure functions; ``Dropzone.send_stored`` does the I/O.

A stored file is whatever a client uploaded, so it is sent as a download
(``attachment``) unless its content is a raster image a browser shows as a picture
and nothing else. SVG is never shown inline: it is a document that runs script.
Every response also carries ``X-Content-Type-Options: nosniff`` (the browser takes
the type as sent, never guessing HTML from the bytes) and a Content-Security-Policy
that stops script and any other load even if a browser renders the file anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from werkzeug.http import dump_options_header

from . import sniffing
from .filenames import safe_filename

#: Raster image types shown inline, when the content is one of them (sniffed) and the
#: name is an image name too. Every current browser decodes these as pictures only: an
#: image decoder runs no script and loads nothing. Not SVG (a document with script),
#: nor TIFF, HEIC or JPEG XL, which most browsers do not show (they are downloaded).
INLINE_IMAGES = frozenset(
    {
        "image/png",
        "image/apng",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/avif",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
)

#: What a download whose name gives no passive type (or whose content contradicts its
#: name) is sent as.
OCTET_STREAM = "application/octet-stream"

#: Types a download keeps, besides the families below: none of them is run or applied
#: by a browser. A type outside these (HTML, SVG, XML, JavaScript, CSS, ...) is sent as
#: ``application/octet-stream``: an attachment is not rendered, but the same URL can be
#: loaded by a ``<script>`` or ``<link rel=stylesheet>`` of a page of the app, where
#: ``nosniff`` refuses it only if its type is not a script or style type.
PASSIVE_TYPES = frozenset(
    {
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/rtf",
        "application/zip",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/epub+zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        OCTET_STREAM,
    }
)
_PASSIVE_PREFIXES = (
    "audio/",
    "video/",
    "image/",  # but SVG, below
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
_ACTIVE_IMAGES = ("image/svg+xml",)

#: No script, no loads, no forms or plugins, an opaque origin: whatever a browser does
#: with the file, nothing in it runs.
CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
#: The same for a raster image shown inline (the image is the document itself, not a
#: load, so it shows), but for the inline style of the browser's own image page (it
#: centres the picture): that page has no markup of the file's, and loads nothing.
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

#: Bytes of a stored file's start that decide how it is sent.
HEAD_SIZE = sniffing.HEAD_SIZE

#: Seconds a presigned URL of a stored file stays valid, by default.
URL_EXPIRES = 300
#: The longest a presigned URL can be valid (SigV4: seven days).
URL_EXPIRES_MAX = 7 * 24 * 3600


def servable(name: object) -> bool:
    """Whether ``name`` (from a URL) can be the plain name of a stored file: a string that
    ``safe_filename`` leaves as it is, so no path, no leading dot, no control character,
    no Windows device name, nothing longer than a stored name."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        return False
    if any(char in name for char in "/\\\x00") or name.startswith("."):
        return False
    return safe_filename(name) == name


#: The extension a name of a variant's type is given (the types variants are made in).
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


def extension(head: bytes) -> str:
    """The extension of the type a variant's first bytes show ("" for another)."""
    return _EXTENSIONS.get(sniffing.type_by_content(head) or "", "")


@dataclass(frozen=True)
class Delivery:
    """How a stored file is sent: shown inline or downloaded, and as which type."""

    inline: bool
    content_type: str
    disposition: str  #: the ``Content-Disposition`` value


def decide(name: str, head: bytes) -> Delivery:
    """How to send the stored file ``name`` whose first bytes are ``head``.

    Inline only when the content is a raster image of :data:`INLINE_IMAGES` and the name
    is not another kind of file (``photo.png``, ``photo``; not ``photo.svg`` or
    ``page.html``), with the sniffed type. Otherwise a download, with the type the name
    gives if it is passive and the content agrees with it, else ``application/octet-stream``.
    """
    by_content = sniffing.type_by_content(head)
    by_name = sniffing.type_by_name(name)
    if by_content in INLINE_IMAGES and (by_name is None or by_name in INLINE_IMAGES):
        return Delivery(True, by_content, disposition(name, inline=True))
    return Delivery(
        False, download_type(name, by_name, by_content), disposition(name, inline=False)
    )


def passive(content_type: str) -> bool:
    """Whether a browser never runs nor applies a file of this type (script, style, markup)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in PASSIVE_TYPES:
        return True
    return kind.startswith(_PASSIVE_PREFIXES) and kind not in _ACTIVE_IMAGES


def download_type(name: str, by_name: Optional[str], by_content: Optional[str]) -> str:
    """The type of a download: the name's, if passive and not contradicted by the content."""
    if by_name is None or not passive(by_name):
        return OCTET_STREAM
    if by_content is None:
        # A format that always starts with a signature but shows none is something else.
        return OCTET_STREAM if sniffing.has_signature(name) else by_name
    return by_name if sniffing.agree(by_name, by_content) else OCTET_STREAM


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def disposition(name: str, inline: bool) -> str:
    """``inline`` or ``attachment`` with the file's name (RFC 6266): ``filename`` in ASCII,
    and ``filename*`` in UTF-8 (RFC 8187) when the name is not ASCII."""
    kind = "inline" if inline else "attachment"
    name = _CONTROL.sub("_", name)  # a header value holds no line break
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        encoded = "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")  # RFC 8187 attr-chars stay
        return dump_options_header(kind, {"filename": _ascii(name), "filename*": encoded})
    return dump_options_header(kind, {"filename": name})


def _ascii(name: str) -> str:
    """An ASCII stand-in for a name, for clients that do not read ``filename*``."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(
        char if ord(char) < 128 else "_" for char in decomposed if not unicodedata.combining(char)
    )


#: Sent with every stored file (and with the redirect to one): the type is taken as sent,
#: nothing in the file runs, and pages of other origins cannot load it (a private upload
#: stays out of their processes; the app's own pages can).
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cross-Origin-Resource-Policy": "same-origin",
}


def headers(sent: Delivery) -> dict[str, str]:
    """Every header a stored file is sent with, besides its length and validators."""
    policy = {"Content-Security-Policy": IMAGE_POLICY} if sent.inline else {}
    described = {"Content-Type": sent.content_type, "Content-Disposition": sent.disposition}
    return {**described, **SAFETY_HEADERS, **policy}


def check_expiry(expires_in: object) -> int:
    """``expires_in`` as the seconds a presigned URL is valid; ValueError if it cannot be."""
    if isinstance(expires_in, int) and not isinstance(expires_in, bool):
        if 1 <= expires_in <= URL_EXPIRES_MAX:
            return expires_in
    raise ValueError(
        f"expires_in must be whole seconds from 1 to {URL_EXPIRES_MAX}, not {expires_in!r}"
    )

"""The zone's messages with their placeholders filled in, the same in the browser and on the server.

``{{maxFilesize}}`` (MiB), ``{{maxFiles}}`` and ``{{acceptedFiles}}`` (the allowed types,
as a person reads them) can appear in any message; ``{{filesize}}`` and ``{{statusCode}}``
depend on the file and are filled in where it is judged (by Dropzone in the browser).
"""

from __future__ import annotations

import mimetypes
from functools import lru_cache
from typing import Optional, TypeVar

from .settings import Options

Text = TypeVar("Text", bound=str)  # str or Markup: Markup.replace escapes what it puts in

# The types zones usually name; others from Python's own table (not the machine's
# /etc/mime.types: the same names everywhere).
_EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
    "image/avif": ".avif", "image/bmp": ".bmp", "image/tiff": ".tiff", "image/heic": ".heic",
    "image/heif": ".heif", "image/x-icon": ".ico", "image/vnd.microsoft.icon": ".ico",
    "image/svg+xml": ".svg", "application/pdf": ".pdf", "text/plain": ".txt", "text/csv": ".csv",
}
_TYPES = mimetypes.MimeTypes(filenames=())


def number(value: float) -> str:
    """A number as JavaScript prints it: ``5``, not ``5.0``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@lru_cache(maxsize=64)
def accepted_for_people(accepted: Optional[str]) -> str:
    """``acceptedFiles`` as a person reads it: ``.png, .jpg, audio/*``.

    A MIME type becomes its usual extension; one with none known is left out when the
    list says enough without it (the image group lists ``.heic`` by name as well)."""
    if not accepted:
        return ""
    shown: list[str] = []
    unknown: list[str] = []
    for rule in (part.strip().lower() for part in accepted.split(",")):
        if not rule:
            continue
        label = rule if rule.startswith(".") or rule.endswith("/*") else _EXTENSIONS.get(rule) or _TYPES.guess_extension(rule)
        if label is None:
            unknown.append(rule)
        elif label not in shown:
            shown.append(label)
    return ", ".join(shown or unknown)


def fill(text: Text, options: Options) -> Text:
    """``text`` with the zone's own placeholders filled in."""
    values = {
        "{{maxFilesize}}": number(options.max_file_size) if options.max_file_size is not None else "",
        "{{maxFiles}}": str(options.max_files) if options.max_files is not None else "",
        "{{acceptedFiles}}": accepted_for_people(options.accepted_files),
    }
    for placeholder, value in values.items():
        if placeholder in text:
            text = text.replace(placeholder, value)  # type: ignore[assignment]
    return text


def too_big(text: str, size: int, options: Options) -> str:
    """``FILE_TOO_BIG`` for a file of ``size`` bytes, in MiB to two places as Dropzone rounds
    them, but up where that would read as the limit itself (5 MiB and a byte: "5.01")."""
    value = round(size / 1024 / 10.24) / 100
    if options.max_file_size is not None and value <= options.max_file_size:
        value = -(-size * 100 // (1024 * 1024)) / 100
    return fill(text, options).replace("{{filesize}}", number(value))

"""The zone's messages with their placeholders filled in, the same in the browser and on the server.

``{{maxFilesize}}`` (MiB), ``{{maxFiles}}``, ``{{acceptedFiles}}`` (the allowed types, as
``.png, .jpg``), ``{{fileTypes}}`` (the same in words: ``Images (JPEG, PNG, ...)``) and
``{{rules}}`` (all the zone's rules, each said by its ``RULE_*`` message) can appear in any
message; ``{{filesize}}`` and ``{{statusCode}}`` depend on the file and are filled in where it
is judged (by Dropzone in the browser).
"""

from __future__ import annotations

import mimetypes
from functools import lru_cache
from typing import Optional, TypeVar

from markupsafe import Markup

from .settings import GROUP_WORDS, STRIPPED_GROUP_WORDS, Options

Text = TypeVar("Text", bound=str)  # str or Markup: Markup.replace escapes what it puts in

# The types zones usually name; others from Python's own table (not the machine's
# /etc/mime.types: the same names everywhere).
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/avif": ".avif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/x-icon": ".ico",
    "image/vnd.microsoft.icon": ".ico",
    "image/svg+xml": ".svg",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/csv": ".csv",
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
        label = (
            rule
            if rule.startswith(".") or rule.endswith("/*")
            else _EXTENSIONS.get(rule) or _TYPES.guess_extension(rule)
        )
        if label is None:
            unknown.append(rule)
        elif label not in shown:
            shown.append(label)
    return ", ".join(shown or unknown)


def file_types(options: Options) -> str:
    """The zone's allowed types in words: its group's, or the extensions of its own list;
    empty when it takes every file."""
    if options.allowed_file_custom:
        return accepted_for_people(options.accepted_files)
    if options.strip_metadata and options.allowed_file_type in STRIPPED_GROUP_WORDS:
        return STRIPPED_GROUP_WORDS[options.allowed_file_type]
    return GROUP_WORDS[options.allowed_file_type]


RULES = "{{rules}}"


def rules(options: Options) -> str:
    """The zone's rules, each said by its ``RULE_*`` message and only where the zone has it
    (nothing for any type, any size, any number of files); Markup when one message is."""
    said = [
        (options.rule_file_type, options.accepted_files),
        (options.rule_file_size, options.max_file_size is not None),
        (options.rule_max_files, options.max_files is not None),
    ]
    parts = [_filled(message, options) for message, applies in said if applies and message]
    return (Markup(" ") if any(isinstance(part, Markup) for part in parts) else " ").join(parts)


def _filled(text: Text, options: Options) -> Text:
    values = {
        "{{maxFilesize}}": number(options.max_file_size)
        if options.max_file_size is not None
        else "",
        "{{maxFiles}}": str(options.max_files) if options.max_files is not None else "",
        "{{acceptedFiles}}": accepted_for_people(options.accepted_files),
        "{{fileTypes}}": file_types(options),
    }
    for placeholder, value in values.items():
        if placeholder in text:
            text = text.replace(placeholder, value)  # type: ignore[assignment]
    return text


def fill(text: Text, options: Options) -> Text:
    """``text`` with the zone's own placeholders filled in; around ``{{rules}}``, which may say
    nothing, no blank is left at either end."""
    text = _filled(text, options)
    if RULES in text:
        text = text.replace(RULES, rules(options)).strip()  # type: ignore[assignment]
    return text


def too_big(text: str, size: int, options: Options) -> str:
    """``FILE_TOO_BIG`` for a file of ``size`` bytes, in MiB to two places as Dropzone rounds
    them, but up where that would read as the limit itself (5 MiB and a byte: "5.01")."""
    value = round(size / 1024 / 10.24) / 100
    if options.max_file_size is not None and value <= options.max_file_size:
        value = -(-size * 100 // (1024 * 1024)) / 100
    return fill(text, options).replace("{{filesize}}", number(value))

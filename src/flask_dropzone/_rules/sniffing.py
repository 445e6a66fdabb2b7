"""What a file is, from its leading bytes (the ``filetype`` library) and from its name.

``filetype`` (pure Python, no dependencies) recognises binary formats by their
signatures; text formats have none and are known by their names only.
"""

from __future__ import annotations

import mimetypes
from typing import Optional

import filetype

#: Bytes of a file's start that identification reads.
HEAD_SIZE = 8192

_NAMES = mimetypes.MimeTypes()  # Python's own table only, not the host's /etc/mime.types
_ENCODINGS = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}
_EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif", "mpeg": "mpg", "mid": "midi"}
# Extension -> type of every format the sniffer can recognise by content.
_SIGNED: dict[str, str] = {kind.extension.lower(): kind.mime for kind in filetype.types}
_ZIP_BASED = ("openxmlformats", "opendocument", "epub+zip", "java-archive")


def extension(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    ext = base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""
    return _EXTENSION_ALIASES.get(ext, ext)


def type_by_name(filename: str) -> Optional[str]:
    ext = extension(filename)
    if not ext:
        return None
    if ext in _SIGNED:
        return _SIGNED[ext]
    kind, encoding = _NAMES.guess_type("x." + ext)
    return _ENCODINGS.get(encoding or "", kind)


def type_by_content(head: bytes) -> Optional[str]:
    if not head:
        return None
    match = filetype.guess(head)
    return match.mime if match else None


def has_signature(filename: str) -> bool:
    """Whether files with this name's extension always start with a known signature."""
    return extension(filename) in _SIGNED


def agree(by_name: str, by_content: str) -> bool:
    """Whether content of type ``by_content`` may rightly carry a name of type ``by_name``."""
    if by_name == by_content:
        return True
    family = by_name.split("/")[0]
    if family in ("image", "audio", "video") and by_content.split("/")[0] == family:
        return True  # a PNG saved as .jpg is still a picture
    if "application/zip" not in (by_name, by_content):
        return False
    other = by_content if by_name == "application/zip" else by_name
    return any(mark in other for mark in _ZIP_BASED)  # a .docx is a zip, and so on

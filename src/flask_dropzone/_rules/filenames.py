"""File names a client sent, made safe to store."""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from typing import Any

#: Longest stored name in UTF-8 bytes; below the usual 255 so " (12)" still fits.
MAX_NAME_BYTES = 240
# Device names Windows resolves whatever extension follows, and whatever dots or spaces end them.
_WINDOWS_RESERVED = re.compile(
    r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE
)
_FORBIDDEN = str.maketrans("", "", '<>:"/\\|?*')
_SPACES = re.compile(" {2,}")


def safe_filename(name: str, fallback: str = "file") -> str:
    """A name that is safe on any file system, keeping Unicode letters.

    Unlike Werkzeug's ``secure_filename`` (which turns ``中文.png`` into
    ``png``) this keeps every printable character except the few Windows
    forbids; it drops directories, control and format characters, leading
    dots and trailing dots or spaces, defuses Windows device names (``CON .txt``,
    ``CONIN$``, ``COM¹``) and bounds the length, keeping the extension.
    """
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rpartition("/")[2]
    if not name.isprintable():  # control, format or unassigned characters, or odd spaces
        name = "".join(
            " " if char.isspace() else char
            for char in name
            if char.isspace() or unicodedata.category(char)[0] != "C"
        )
    name = _SPACES.sub(" ", name.translate(_FORBIDDEN)).lstrip(". ").rstrip(". ")
    if not name:
        return fallback
    stem, ext = os.path.splitext(name)
    if _WINDOWS_RESERVED.fullmatch(stem.split(".")[0].rstrip(". ")):
        stem = "_" + stem
    return _bounded(stem, ext)


def _bounded(stem: str, ext: str) -> str:
    if len(ext.encode()) > MAX_NAME_BYTES // 2:
        stem, ext = stem + ext, ""
    room = MAX_NAME_BYTES - len(ext.encode())
    encoded = stem.encode()
    if len(encoded) > room:
        stem = encoded[:room].decode(errors="ignore").rstrip(". ")
    return (stem or "file") + ext


def stored_name(filename: str, policy: Any, file: Any = None) -> str:
    """The name a file is stored under by the naming ``policy`` (``DROPZONE_STORED_NAME``):
    whatever the policy returns is made safe, so it stays inside the folder."""
    if policy == "original":
        return safe_filename(filename)
    if policy == "random":
        return uuid.uuid4().hex + os.path.splitext(safe_filename(filename))[1].lower()
    name = policy(file)
    if not isinstance(name, str):
        raise TypeError(f"DROPZONE_STORED_NAME's function must return a str, not {name!r}")
    return safe_filename(name)


def random_filename(old_filename: str) -> str:
    """A random name (uuid4 hex) that keeps the sanitized extension of ``old_filename``."""
    return uuid.uuid4().hex + os.path.splitext(safe_filename(old_filename))[1]

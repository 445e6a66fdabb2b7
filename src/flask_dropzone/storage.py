"""Files on disk: anonymous temporary files, and publishing them under a free name.

A file is written once, into an unnamed temporary file in the folder it will
live in, then given its name with a hard link. ``link`` never replaces an
existing file and is atomic, so two processes saving ``a.png`` at the same
time end up with ``a.png`` and ``a (1).png``, each complete.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from typing import BinaryIO, Optional

_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT)


class TempFile:
    """A file being received in ``folder``; it vanishes unless published."""

    def __init__(self, folder: str) -> None:
        self.folder = os.path.abspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.path: Optional[str] = None  # a visible name only where O_TMPFILE is missing
        fd = -1
        if _O_TMPFILE and os.path.exists("/proc/self/fd"):
            try:
                fd = os.open(folder, _O_TMPFILE | os.O_RDWR, 0o644)
            except OSError as error:
                if error.errno not in _NO_TMPFILE:
                    raise
        if fd < 0:
            fd, self.path = tempfile.mkstemp(dir=folder, prefix=".dropzone-", suffix=".part")
            os.chmod(self.path, 0o644)
        self.file: BinaryIO = os.fdopen(fd, "w+b", buffering=0)

    @classmethod
    def existing(cls, path: str) -> "TempFile":
        """An existing file, taken over: removed on close unless published."""
        temp = cls.__new__(cls)
        temp.folder = os.path.dirname(os.path.abspath(path))
        temp.path = path
        temp.file = open(path, "r+b", buffering=0)
        return temp

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def link(self, target: str) -> None:
        """Give the file the name ``target``; FileExistsError if that name is taken."""
        if self.path:
            os.link(self.path, target)
            return
        # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N names an O_TMPFILE file;
        # os.link only uses linkat when given a directory fd.
        fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.link(str(self.file.fileno()), target, src_dir_fd=fds, follow_symlinks=True)
        finally:
            os.close(fds)

    def replace(self, target: str) -> None:
        """Give the file the name ``target``, replacing whatever had it."""
        staging = os.path.join(os.path.dirname(target), f".dropzone-{os.urandom(8).hex()}.part")
        self.link(staging)
        os.replace(staging, target)

    def close(self) -> None:
        self.file.close()
        if self.path:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.path = None


def numbered(name: str, number: int) -> str:
    """``name`` with `` (number)`` before its extension; ``name`` itself for 0."""
    if number == 0:
        return name
    stem, dot, ext = name.rpartition(".")
    if not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}){dot}{ext}"


def publish(file: TempFile, folder: str, name: str, attempts: int = 10_000) -> str:
    """Link ``file`` into ``folder`` under ``name`` or the first free numbered variant."""
    for number in range(attempts):
        candidate = numbered(name, number)
        try:
            file.link(os.path.join(folder, candidate))
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {name!r} in {folder!r}")


def copy_into(source: BinaryIO, folder: str) -> TempFile:
    """A temporary file in ``folder`` holding the rest of ``source``."""
    file = TempFile(folder)
    try:
        shutil.copyfileobj(source, file.file, 1024 * 1024)
    except BaseException:
        file.close()
        raise
    return file

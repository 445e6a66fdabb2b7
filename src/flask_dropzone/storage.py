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
from typing import IO, Callable, Optional

_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)


_proc_fd: tuple[int, int] = (-1, -1)  # (pid, descriptor of /proc/<pid>/fd)
_tmpfile_works = bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")


def _anonymous(folder: str) -> int:
    """An unnamed file in ``folder`` (O_TMPFILE), or -1 where that is not supported."""
    global _tmpfile_works
    if _tmpfile_works:
        try:
            return os.open(folder, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o644)
        except OSError as error:
            if error.errno == errno.ENOENT or error.errno not in _NO_TMPFILE:
                raise
            _tmpfile_works = False  # this file system has no O_TMPFILE
    return -1


def _proc_fds() -> int:
    """A descriptor of this process's /proc/<pid>/fd, opened once per process (not per fork)."""
    global _proc_fd
    pid = os.getpid()
    if _proc_fd[0] != pid:
        _proc_fd = (pid, os.open(f"/proc/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return _proc_fd[1]


class TempFile:
    """A file being received in ``folder``; it vanishes unless published."""

    def __init__(self, folder: str) -> None:
        self.folder = os.path.abspath(folder)
        self.path: Optional[str] = None  # a visible name only where O_TMPFILE is missing
        try:
            fd = _anonymous(self.folder)
        except FileNotFoundError:
            os.makedirs(self.folder, exist_ok=True)
            fd = _anonymous(self.folder)
        if fd < 0:
            fd, self.path = tempfile.mkstemp(dir=self.folder, prefix=".dropzone-", suffix=".part")
            os.chmod(self.path, 0o644)
        self.file: IO[bytes] = os.fdopen(fd, "w+b", buffering=0)

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
        os.link(str(self.file.fileno()), target, src_dir_fd=_proc_fds(), follow_symlinks=True)

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


def _first_free(folder: str, name: str, create: Callable[[str], None], attempts: int = 10_000) -> str:
    """Call ``create`` with ``name`` or its numbered variants until one is not taken."""
    for number in range(attempts):
        candidate = numbered(name, number)
        try:
            create(os.path.join(folder, candidate))
            return candidate
        except FileExistsError:
            continue
        except FileNotFoundError:
            if os.path.isdir(folder):
                raise
            os.makedirs(folder, exist_ok=True)
            create(os.path.join(folder, candidate))
            return candidate
    raise FileExistsError(f"no free name for {name!r} in {folder!r}")


def publish(file: TempFile, folder: str, name: str) -> str:
    """Link ``file`` into ``folder`` under ``name`` or the first free numbered variant."""
    return _first_free(folder, name, file.link)


def write_new(data: bytes, folder: str, name: str) -> str:
    """Write ``data`` to a new file in ``folder`` named ``name`` or the first free variant.

    For small files held in memory: one exclusive create and one write, cheaper
    than an unnamed file (which ext4 has to track until it is linked).
    """

    def create(path: str) -> None:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.unlink(path)  # ours, and incomplete
            raise
        finally:
            os.close(fd)

    return _first_free(folder, name, create)


def copy_into(source: IO[bytes], folder: str) -> TempFile:
    """A temporary file in ``folder`` holding the rest of ``source``."""
    file = TempFile(folder)
    try:
        shutil.copyfileobj(source, file.file, 1024 * 1024)
    except BaseException:
        file.close()
        raise
    return file

"""The disk file store: files written whole, named without replacing anything, never
through a symlink.

A received file is written once, into an unnamed temporary file (``O_TMPFILE``)
in the folder it will live in, then given its name with a hard link: a link
never replaces an existing name and is atomic, so two processes saving
``a.png`` at the same time end up with ``a.png`` and ``a (1).png``, each
complete. Where the file system has no ``O_TMPFILE`` (NFS, some FUSE file
systems) the temporary file has a hidden name, ``.dropzone-<random>.part``,
which ``flask dropzone clean`` removes if its process died.

Every write is checked: a write that stores fewer bytes is continued, one that
stores none is a full disk, and a file's size is checked before it is named.

Modes are those of ``open()`` and ``mkdir``: files 0666 and folders 0777, less
the process umask (022 gives 0644 and 0755; 077 keeps uploads to the app's user).
"""

from __future__ import annotations

import errno
import functools
import os
import re
import secrets
import stat
import time
from contextlib import contextmanager, suppress
from typing import IO, Callable, Iterable, Iterator, Optional, TypeVar, Union

from ..base import Bytes, Claim, FileStore, HandOver, Staged, Stored, StoreFull, StoreLimit
from ..names import candidates

_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

#: Hidden names of temporary files, where a file system has no unnamed ones.
TEMP_NAME = re.compile(r"\.dropzone-[0-9a-f]{16}\.part")
#: The hidden folder, in a folder of stored files, of their variants: one folder per file.
VARIANTS = ".dropzone-variants"
#: The folder (in the chunk folder) of pending files, one folder per client.
PENDING = "pending"
#: How a pending file being claimed is named (a name no pending file has).
CLAIMING = ".claim-"

# Linking fails across file systems (and where hard links are not allowed): copy instead.
_NOT_LINKABLE = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP)


@contextmanager
def disk_errors() -> Iterator[None]:
    """A full disk or quota, or a file too large for the file system, as the store's errors."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreFull(str(error)) from error
        if error.errno == errno.EFBIG:
            raise StoreLimit(str(error)) from error
        raise


def write_all(fd: int, data: Bytes, offset: Optional[int] = None) -> None:
    """Write every byte of ``data`` (at ``offset``, if given).

    ``write(2)`` may store fewer bytes than asked when a disk, quota or file
    size limit is reached; the rest is written again, and a write that stores
    nothing is reported as a full disk.
    """
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
        if written == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
        if offset is not None:
            offset += written


def check_size(file: Union[int, str], expected: int) -> None:
    """Refuse to name a file (a descriptor or our own path) whose size is not what was received."""
    size = (
        os.fstat(file) if isinstance(file, int) else os.stat(file, follow_symlinks=False)
    ).st_size
    if size != expected:
        raise OSError(errno.ENOSPC, f"the stored file has {size} bytes instead of {expected}")


def make_folder(path: str) -> None:
    """Create ``path`` and its parents; harmless when other requests create them at once."""
    os.makedirs(path, exist_ok=True)


#: How often a folder is made again when a sweep removes it, emptied, between its making
#: and its use: once is rare, more is the store failing.
REMADE = 5
T = TypeVar("T")


def in_folder(folder: str, action: Callable[[], T]) -> T:
    """``action()``, which makes an entry in ``folder``: the folder is made when it is
    missing, and made again when a sweep removes it (emptied) before the entry is made."""
    for _ in range(REMADE):
        try:
            return action()
        except FileNotFoundError:
            make_folder(folder)
    return action()


class DiskStaged(Staged):
    """A file being received in ``folder``; it vanishes unless given a name."""

    def __init__(self, store: "DiskFiles", folder: str) -> None:
        self.store = store
        self.folder = os.path.abspath(folder)
        self.path: Optional[str] = None  # a hidden name, where there is one
        self.size = 0
        self.linked = False  # its bytes were given a name: another name is a copy
        fd = in_folder(self.folder, self._create)
        self.file: Optional[IO[bytes]] = os.fdopen(fd, "w+b", buffering=0)

    def _create(self) -> int:
        if _O_TMPFILE and self.store.unnamed_files_work(self.folder):
            try:
                return os.open(self.folder, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666)
            except OSError as error:
                if error.errno not in _NO_TMPFILE:
                    raise
                self.store.no_unnamed_files(self.folder)
        path = os.path.join(self.folder, f".dropzone-{secrets.token_hex(8)}.part")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | _NOFOLLOW, 0o666)
        self.path = path
        return fd

    @property
    def leaves_traces(self) -> bool:  # type: ignore[override]
        return self.path is not None  # a hidden name, not an unnamed file

    def fileno(self) -> int:
        assert self.file is not None, "the file was parked"
        return self.file.fileno()

    def write(self, data: Bytes) -> None:
        with disk_errors():
            write_all(self.fileno(), data)
        self.size += len(data)

    def rest(self) -> None:
        """Close the descriptor, keeping the file under its hidden name (bounds open files)."""
        if self.file is None:
            return
        if self.path is None:
            path = os.path.join(self.folder, f".dropzone-{secrets.token_hex(8)}.part")
            self.store.link_descriptor(self.fileno(), path)
            self.path = path
        self.file.close()
        self.file = None

    def open(self) -> IO[bytes]:
        """The file, opened again if it was parked, at its start."""
        if self.file is None:
            assert self.path is not None
            self.file = os.fdopen(os.open(self.path, os.O_RDWR | _NOFOLLOW), "w+b", buffering=0)
        self.file.seek(0)
        return self.file

    def link(self, target: str) -> None:
        """Give the file the name ``target``; FileExistsError if that name is taken."""
        if self.file is None:
            assert self.path is not None
            check_size(self.path, self.size)
            os.link(self.path, target, follow_symlinks=False)
        else:
            self.store.link_checked(self.fileno(), self.size, target)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.path:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.path = None


def free_name(folder: str, name: str, create: Callable[[str], None]) -> str:
    """Call ``create`` with the path of ``name`` or of a variant until one is not taken;
    ``folder`` is created if it is missing."""
    for candidate in candidates(name):
        try:
            in_folder(folder, functools.partial(create, os.path.join(folder, candidate)))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, f"no free name for {name!r}", folder)


def write_new(data: Bytes, folder: str, name: str) -> str:
    """Write ``data`` to a new file in ``folder`` named ``name`` or the first free variant.

    For small files held in memory: one exclusive create and one write, cheaper
    than an unnamed file (which ext4 has to track until it is linked).
    """

    def create(path: str) -> None:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW, 0o666)
        try:
            write_all(fd, data)
        except BaseException:
            os.unlink(path)  # ours, and incomplete
            raise
        finally:
            os.close(fd)

    return free_name(folder, name, create)


def remove_stale_temporaries(folder: str, older_than: float) -> tuple[int, int]:
    """Remove hidden temporary files last written before ``older_than`` (their process
    died); return how many and the bytes freed. Only regular files with the hidden
    name are touched."""
    removed = freed = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0, 0
    for entry in entries:
        if not TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= older_than:
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        removed += 1
        freed += allocated(info)
    return removed, freed


def allocated(info: os.stat_result) -> int:
    """Bytes that removing the last name of this file gives back to the disk."""
    if info.st_nlink > 1:
        return 0  # another name keeps the data
    blocks = getattr(info, "st_blocks", None)
    return blocks * 512 if blocks is not None else info.st_size


class DiskClaim(Claim):
    """A claim on disk: the file under the claim's own name, linked to its stored name."""

    def __init__(self, pending_path: str, claiming: str, stored: Stored) -> None:
        self.pending_path, self.claiming, self.stored = pending_path, claiming, stored

    def finish(self) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.claiming)

    def undo(self) -> None:
        with disk_errors():
            with suppress(FileNotFoundError):
                os.unlink(
                    self.stored.path or self.stored.location
                )  # the name it took: nobody else's
            os.rename(self.claiming, self.pending_path)


class DiskFiles(FileStore):
    """Files in folders of the local disk (or of a network file system)."""

    def __init__(self) -> None:
        self._unnamed: dict[str, bool] = {}  # folder -> whether O_TMPFILE works there
        self._proc_fd = (-1, -1)  # (pid, descriptor of /proc/<pid>/fd)

    def unnamed_files_work(self, folder: str) -> bool:
        return self._unnamed.get(folder, True)

    def no_unnamed_files(self, folder: str) -> None:
        self._unnamed[folder] = False

    def _proc_fds(self) -> int:
        """A descriptor of this process's /proc/<pid>/fd, opened once per process (not per fork)."""
        pid = os.getpid()
        if self._proc_fd[0] != pid:
            self._proc_fd = (
                pid,
                os.open(f"/proc/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC),
            )
        return self._proc_fd[1]

    def link_descriptor(self, fd: int, target: str) -> None:
        """Give the open file ``fd`` the name ``target``; FileExistsError if it is taken.

        ``linkat(AT_SYMLINK_FOLLOW)`` on /proc/self/fd/N names the very file that is
        open, unnamed or not, whatever happened to its old name since.
        """
        os.link(str(fd), target, src_dir_fd=self._proc_fds(), follow_symlinks=True)

    def link_checked(self, fd: int, size: int, target: str) -> None:
        """Give the open file ``fd``, checked to hold ``size`` bytes, the name ``target``."""
        check_size(fd, size)
        self.link_descriptor(fd, target)

    local = True

    def folder(self, folder: Optional[str], default: str) -> str:
        return os.path.abspath(folder or default)

    def stage(self, folder: str) -> DiskStaged:
        with disk_errors():
            return DiskStaged(self, folder)

    def _linker(self, source: Union[Staged, HandOver]) -> Optional[Callable[[str], None]]:
        """How to give ``source``'s bytes a name without copying them, once: a second
        name must be a copy, not another link to the same file."""
        if getattr(source, "linked", True):
            return None
        source.linked = True  # type: ignore[union-attr]
        if isinstance(source, DiskStaged):
            return source.link
        fd, size = source.data_fd, source.size  # type: ignore[union-attr]
        return lambda path: self.link_checked(fd, size, path)

    def copy_into(
        self, source: IO[bytes], folder: str, size: int, block_size: int = 1024 * 1024
    ) -> DiskStaged:
        """A staged file in ``folder`` holding ``source``, which must have ``size`` bytes."""
        copy = self.stage(folder)
        try:
            while True:
                block = source.read(block_size)
                if not block:
                    break
                copy.write(block)
            if copy.size != size:
                raise OSError(errno.EIO, "the file changed while it was stored")
        except BaseException:
            copy.close()
            raise
        return copy

    def publish(
        self, source: Union[Bytes, Staged, HandOver], folder: str, name: str, size: int
    ) -> Stored:
        folder = os.path.abspath(folder)
        with disk_errors():
            if isinstance(source, (bytes, bytearray, memoryview)):
                stored = write_new(source, folder, name)
            else:
                stored = self._publish(source, folder, name, size)
        path = os.path.join(folder, stored)
        return Stored(stored, location=path, path=path)

    def _publish(self, source: Union[Staged, HandOver], folder: str, name: str, size: int) -> str:
        link = self._linker(source)
        if link is not None:
            try:
                return free_name(folder, name, link)
            except OSError as error:
                if error.errno not in _NOT_LINKABLE:
                    raise
        copy = self.copy_into(source.open(), folder, size)
        try:
            return free_name(folder, name, copy.link)
        finally:
            copy.close()

    def save_as(self, source: Union[Staged, HandOver], path: str) -> bool:
        target = os.path.abspath(path)
        link = self._linker(source)
        if link is None:
            return False
        staging = os.path.join(os.path.dirname(target), f".dropzone-{os.urandom(8).hex()}.part")
        try:
            link(staging)
        except OSError as error:
            if error.errno not in _NOT_LINKABLE:
                raise
            return False
        os.replace(staging, target)
        return True

    def unpublish(self, source: HandOver, stored: list[Stored]) -> None:
        info = os.fstat(source.data_fd)  # type: ignore[attr-defined]
        for each in stored:
            if each.path is None:
                continue
            try:
                named = os.stat(each.path, follow_symlinks=False)
                if (named.st_dev, named.st_ino) == (info.st_dev, info.st_ino):
                    os.unlink(each.path)
            except FileNotFoundError:
                pass

    def open(self, folder: str, name: str) -> IO[bytes]:
        """The regular file ``name`` of ``folder``. A symlink (refused by ``O_NOFOLLOW``),
        a folder or a device is no stored file: FileNotFoundError, as for a missing name
        (``O_NONBLOCK``: opening a FIFO does not wait for a writer)."""
        path = os.path.join(os.path.abspath(folder), name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                raise FileNotFoundError(errno.ENOENT, "no stored file", path) from error
            raise
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except BaseException:
            os.close(fd)
            raise
        if not regular:
            os.close(fd)
            raise FileNotFoundError(errno.ENOENT, "no stored file", path)
        return os.fdopen(fd, "rb")

    def url(
        self, folder: str, name: str, expires_in: int, content_type: str, disposition: str
    ) -> Optional[str]:
        return None  # a folder of the server's disk has no URL of its own

    def delete(
        self, folder: str, name: str, version: Optional[str] = None, *, variants: bool = True
    ) -> bool:
        if version is not None and self.version(folder, name) != version:
            return False
        try:
            os.unlink(os.path.join(os.path.abspath(folder), name))
        except FileNotFoundError:
            return False
        try:
            if variants:
                self.delete_variants(folder, name)
        except OSError:  # the file went: its variants are named by its version, never shown again
            pass
        return True

    def variant_folder(self, folder: str, name: str) -> str:
        """``<folder>/.dropzone-variants/<name>``: a hidden folder (no stored name starts with
        a dot, and a listing shows files only)."""
        return os.path.join(os.path.abspath(folder), VARIANTS, name)

    def put_variant(self, folder: str, name: str, data: Bytes) -> None:
        """Written unnamed (or under a hidden name), then linked: a link is atomic and never
        replaces the variant another process linked first."""
        with disk_errors():
            staged = self.stage(folder)
            try:
                staged.write(data)
                staged.link(os.path.join(os.path.abspath(folder), name))
            except FileExistsError:
                pass
            finally:
                staged.close()

    def kept_variants(self, folders: Iterable[str]) -> Iterator[tuple[str, str, str, int]]:
        for folder in folders:
            for place in _entries(os.path.join(os.path.abspath(folder), VARIANTS)):
                if not place.is_dir(follow_symlinks=False):
                    continue
                for entry in _entries(place.path):
                    if entry.is_file(follow_symlinks=False) and not TEMP_NAME.fullmatch(entry.name):
                        yield (
                            folder,
                            place.name,
                            entry.name,
                            entry.stat(follow_symlinks=False).st_size,
                        )

    def remove_variant(self, folder: str, name: str, variant: str) -> None:
        place = self.variant_folder(folder, name)
        with suppress(FileNotFoundError):
            os.unlink(os.path.join(place, variant))
        for empty in (place, os.path.dirname(place)):
            with suppress(OSError):  # another variant, or one being made
                os.rmdir(empty)

    def delete_variants(self, folder: str, name: str) -> int:
        place = self.variant_folder(folder, name)
        removed = 0
        for entry in _entries(place):
            if entry.is_file(follow_symlinks=False):
                with suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
        for empty in (place, os.path.dirname(place)):
            with suppress(OSError):  # another file's variants, or one being made
                os.rmdir(empty)
        return removed

    def locate(self, location: str) -> tuple[str, str]:
        folder, name = os.path.split(os.path.abspath(location))
        return folder, name

    def place(self, folder: str, name: str) -> Stored:
        path = os.path.join(os.path.abspath(folder), name)
        return Stored(name, location=path, path=path)

    def version(self, folder: str, name: str) -> Optional[str]:
        """Its inode, time and size (never shown: delete tokens carry a keyed hash of it)."""
        try:
            info = os.stat(os.path.join(os.path.abspath(folder), name), follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (
            f"{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"
            if stat.S_ISREG(info.st_mode)
            else None
        )

    def label(self, folder: str, root: str) -> str:
        """The folder's path relative to ``root``, with ``/``: "" for the upload folder itself,
        ``avatars/42`` under it, ``../avatars`` beside it; never the absolute path."""
        relative = os.path.relpath(os.path.abspath(folder), os.path.abspath(root))
        return "" if relative == os.curdir else relative.replace(os.sep, "/")

    def unlabel(self, label: str, root: str) -> str:
        return os.path.normpath(os.path.join(os.path.abspath(root), *label.split("/")))

    def listing(self, folder: str) -> list[tuple[str, int]]:
        try:
            entries = list(os.scandir(os.path.abspath(folder)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            (entry.name, entry.stat(follow_symlinks=False).st_size)
            for entry in entries
            if entry.is_file(follow_symlinks=False) and not TEMP_NAME.fullmatch(entry.name)
        )

    def pending_folder(self, root: str, client: str) -> str:
        return os.path.join(os.path.abspath(root), PENDING, client)

    def claim(
        self, folder: str, name: str, target: str, target_name: str, size: int
    ) -> Optional[Claim]:
        """A rename to a name of the claim's own decides which claim it is (a rename is
        atomic: the others find nothing), then a link gives the file its free name in
        ``target``: no byte is moved (copied only across file systems)."""
        pending_path = os.path.join(os.path.abspath(folder), name)
        claiming = os.path.join(os.path.abspath(folder), CLAIMING + secrets.token_hex(8))
        try:
            os.rename(pending_path, claiming)
        except (FileNotFoundError, NotADirectoryError):
            return None
        target = os.path.abspath(target)
        try:
            with disk_errors():
                check_size(claiming, size)
                try:
                    stored = free_name(
                        target,
                        target_name,
                        lambda path: os.link(claiming, path, follow_symlinks=False),
                    )
                except OSError as error:
                    if error.errno not in _NOT_LINKABLE:
                        raise
                    with open(claiming, "rb") as source:
                        copy = self.copy_into(source, target, size)
                    try:
                        stored = free_name(target, target_name, copy.link)
                    finally:
                        copy.close()
        except BaseException as error:
            try:
                os.rename(claiming, pending_path)  # pending again
            except FileNotFoundError:
                if isinstance(error, FileNotFoundError):
                    return None  # removed under the claim (by hand, say): no file to store
            raise
        path = os.path.join(target, stored)
        return DiskClaim(pending_path, claiming, Stored(stored, location=path, path=path))

    def is_pending(self, folder: str, name: str) -> bool:
        """A claim renames the file: one still under its own name is unclaimed."""
        try:
            return stat.S_ISREG(os.lstat(os.path.join(os.path.abspath(folder), name)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False

    def pending_files(self, folder: str) -> list[tuple[str, int, float]]:
        try:
            entries = list(os.scandir(os.path.abspath(folder)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode) and not entry.name.startswith(
                "."
            ):  # a claim's, a temporary
                found.append((entry.name, info.st_size, info.st_mtime))
        return found

    def clean_pending(
        self, root: str, expires: float, now: Optional[float] = None
    ) -> tuple[int, int]:
        older_than = (time.time() if now is None else now) - expires
        removed = freed = 0
        base = os.path.join(os.path.abspath(root), PENDING)
        try:
            clients = [entry for entry in os.scandir(base) if entry.is_dir(follow_symlinks=False)]
        except (FileNotFoundError, NotADirectoryError):
            return 0, 0
        for client in clients:
            for entry in list(os.scandir(client.path)):
                try:
                    info = entry.stat(follow_symlinks=False)
                    # A file being claimed is judged by when its claim began (its rename
                    # set its ctime): the sweep never takes a file from a claim midway.
                    began = info.st_ctime if entry.name.startswith(CLAIMING) else info.st_mtime
                    if not stat.S_ISREG(info.st_mode) or began >= older_than:
                        continue
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue
                removed, freed = removed + 1, freed + allocated(info)
            try:
                os.rmdir(client.path)  # emptied
            except OSError:
                pass
        return removed, freed

    def clean(self, folders: tuple[str, ...], expires: float) -> tuple[int, int]:
        older_than = time.time() - expires
        removed = freed = 0
        for folder in dict.fromkeys(folders):
            count, size = remove_stale_temporaries(folder, older_than)
            removed, freed = removed + count, freed + size
        return removed, freed


def _entries(folder: str) -> list[os.DirEntry[str]]:
    """What ``folder`` holds (nothing when it is not there, or not a folder)."""
    try:
        return list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []

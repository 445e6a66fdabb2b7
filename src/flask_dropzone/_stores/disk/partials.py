"""The disk partial store: chunked uploads on disk, shared by every worker process and thread.

One folder per upload, under the client it belongs to::

    <chunk folder>/<client>/lock                     taken to start an upload (the quota)
    <chunk folder>/<client>/<dzuuid>/manifest.json   what the upload declared, its expiry; its lock
                                     data            the file, each chunk written at its offset
                                     received        one byte per chunk, set once it is written
                                     complete        the file was handed over
                                     refused         its content was refused
                                     expired         the sweep removed its bytes (or its client)

Coordination is by the file system, so any number of processes and threads can
serve one upload. Open-file-description locks (``F_OFD_SETLKW``) on the
manifest keep chunk writers (shared) apart from the hand-over, a refusal and
the sweep (exclusive); unlike ``flock`` they hold between the threads of one
process and on NFS. A chunk cut short (a killed worker, a dropped connection)
is not marked received, so the client's retry writes it again.

The hand-over holds its exclusive lock until the request that received the
file has answered: committed if it succeeded, given back otherwise, so that a
resent chunk hands the file over again; the thread that holds it never waits
for it (StoreBusy instead). Each upload expires by the ``CHUNK_EXPIRES`` it
started with. One that ended leaves its manifest and a state marker behind,
for that long once complete and for at least ``TOMBSTONE`` otherwise (each late
chunk starting that again), so that a late chunk is answered for what happened
instead of starting a new upload.

Nothing here follows a symbolic link: every entry is opened relative to its
folder's descriptor with ``O_NOFOLLOW`` and checked to be what it should be
(else UnsafeEntry, which the sweep logs and leaves alone), and the sweep
removes only entries of this layout. Every write maps a full disk or quota
to StoreFull and EFBIG to StoreLimit, as the file store's writes do.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import stat
import struct
import threading
import time
from dataclasses import asdict
from typing import IO, Iterator, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks; run a single worker process there
    fcntl = None  # type: ignore[assignment]

from ..._rules.chunks import Chunk, Manifest, check_same_upload
from ..base import (
    CLIENT_NAME,
    COMPLETE,
    EXPIRED,
    REFUSED,
    UPLOAD_NAME,
    CleanReport,
    HandOver,
    Partial,
    PartialStore,
    StoreBusy,
    StoreUnavailable,
    check_room,
    record_lifetime,
)
from .files import TEMP_NAME, allocated, disk_errors, make_folder, write_all

MANIFEST, DATA, RECEIVED, LOCK = "manifest.json", "data", "received", "lock"
STATES = (COMPLETE, REFUSED, EXPIRED)
_OWN_FILES = frozenset({MANIFEST, DATA, RECEIVED, *STATES})
_CLEAN_STAMP = ".last-clean"
#: Times a request starts over when the upload it opened was removed under it.
_ATTEMPTS = 5

log = logging.getLogger("flask_dropzone")

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a FIFO planted among our files must not hang the request.
_ENTRY = getattr(os, "O_NOFOLLOW", 0) | _CLOEXEC | getattr(os, "O_NONBLOCK", 0)
_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _ENTRY


class UnsafeEntry(OSError, StoreUnavailable):
    """Something that is not ours (a symlink, a file where a folder belongs) sits in the chunk
    folder: the store cannot be used there (503, logged), and nothing is followed."""


# Locks ---------------------------------------------------------------------------

_F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", None)
_F_OFD_SETLKW = getattr(fcntl, "F_OFD_SETLKW", None)


def _lock(fd: int, exclusive: bool, wait: bool = True) -> bool:
    """Lock the whole file for this open file description; False if ``wait`` is off and it is
    held."""
    if fcntl is None:
        return True
    try:
        if _F_OFD_SETLKW is not None and _F_OFD_SETLK is not None:
            kind = fcntl.F_WRLCK if exclusive else fcntl.F_RDLCK
            request = struct.pack("hhqqi4x", kind, os.SEEK_SET, 0, 0, 0)  # struct flock, l_pid 0
            fcntl.fcntl(fd, _F_OFD_SETLKW if wait else _F_OFD_SETLK, request)
        else:  # pragma: no cover - systems without OFD locks: flock is per open file too
            operation = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            fcntl.flock(fd, operation if wait else operation | fcntl.LOCK_NB)
    except OSError as error:
        if not wait and error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


#: The manifests whose hand-over lock this thread holds, by (st_dev, st_ino): the lock is
#: held until the response, and the thread must never wait for it (it would wait for ever).
_local = threading.local()


def _handing_over() -> set[tuple[int, int]]:
    held: Optional[set[tuple[int, int]]] = getattr(_local, "manifests", None)
    if held is None:
        held = _local.manifests = set()
    return held


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _lock_manifest(fd: int, exclusive: bool, wait: bool = True) -> bool:
    """Lock an upload's manifest as :func:`_lock` does; False at once if this thread holds
    its hand-over."""
    if _identity(fd) in _handing_over():
        return False
    return _lock(fd, exclusive, wait)


def _removed(fd: int) -> bool:
    """Whether the file open as ``fd`` lost its name while we waited for its lock."""
    return os.fstat(fd).st_nlink == 0


# Entries, relative to their folder ------------------------------------------------


#: How often a folder is made again when the sweep removes it (empty) between its making
#: and its opening: once is rare, more is the store failing.
_REMADE = 5


def _open_folder(name: str, dir_fd: int, create: bool = False) -> int:
    for _ in range(_REMADE if create else 1):
        if create:
            try:
                with disk_errors():
                    os.mkdir(name, 0o777, dir_fd=dir_fd)
            except FileExistsError:
                pass
        try:
            return os.open(name, _FOLDER, dir_fd=dir_fd)
        except FileNotFoundError:
            if not create:
                raise
            # the sweep removed it, empty, since it was made: make it again
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafeEntry(error.errno, "not a folder of the chunk store", name) from None
            raise
    raise StoreUnavailable(f"the chunk store's folder {name} keeps vanishing")


def _open_file(name: str, dir_fd: int, flags: int, mode: int = 0o666) -> int:
    try:
        with disk_errors():  # a new entry takes room too
            fd = os.open(name, flags | _ENTRY, mode, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise UnsafeEntry(error.errno, "not a file of the chunk store", name) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeEntry(errno.EINVAL, "not a file of the chunk store", name)
    return fd


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def _touch(name: str, dir_fd: int, content: bytes = b"") -> None:
    fd = _open_file(name, dir_fd, os.O_CREAT | os.O_WRONLY)
    try:
        if content:
            with disk_errors():
                write_all(fd, content, 0)
    finally:
        os.close(fd)


def _unlink(name: str, dir_fd: int) -> int:
    """Remove the entry ``name`` (not what it points to); the bytes this frees."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return 0
    return allocated(info) if stat.S_ISREG(info.st_mode) else 0


def _write_new(name: str, dir_fd: int, data: bytes) -> None:
    """Create ``name`` holding ``data``, all at once: readers never see it partly written."""
    staging = f".dropzone-{secrets.token_hex(8)}.part"
    fd = _open_file(staging, dir_fd, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with disk_errors():
            write_all(fd, data)
            os.link(staging, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    finally:
        os.close(fd)
        os.unlink(staging, dir_fd=dir_fd)


def _client_lock(client_fd: int, wait: bool) -> Optional[int]:
    """The client's lock, held; None if it is busy (``wait`` off) or was removed meanwhile."""
    lock = _open_file(LOCK, client_fd, os.O_RDWR | os.O_CREAT)
    if not _lock(lock, exclusive=True, wait=wait) or _removed(lock):
        os.close(lock)
        return None
    return lock


def _refusal(dir_fd: int) -> int:
    try:
        fd = _open_file(REFUSED, dir_fd, os.O_RDONLY)
    except (FileNotFoundError, UnsafeEntry):
        return 415
    try:
        status = os.read(fd, 8)
    finally:
        os.close(fd)
    return int(status) if status.isdigit() else 415


def _state(dir_fd: int) -> Optional[str]:
    return next((state for state in STATES if _exists(state, dir_fd)), None)


def _own_entries(dir_fd: int) -> list[str]:
    return [name for name in os.listdir(dir_fd) if name in _OWN_FILES or TEMP_NAME.fullmatch(name)]


def _last_change(dir_fd: int) -> float:
    """When the upload last changed: the newest of its entries and of its folder."""
    newest = os.fstat(dir_fd).st_mtime
    for name in _own_entries(dir_fd):
        try:
            newest = max(newest, os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime)
        except FileNotFoundError:
            pass
    return newest


def _read_manifest(dir_fd: int) -> Optional[Manifest]:
    try:
        fd = _open_file(MANIFEST, dir_fd, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return Manifest.from_json(os.read(fd, 64 * 1024))
    except (ValueError, TypeError):
        return None
    finally:
        os.close(fd)


def _manifest_json(manifest: Manifest, expires: Optional[float]) -> bytes:
    """The manifest as recorded: what every chunk must agree on, and the upload's expiry."""
    record = asdict(manifest)
    if expires is not None:
        record["expires"] = expires
    return json.dumps(record, ensure_ascii=False).encode()


def _kept_for(dir_fd: int, manifest: Optional[int], default: float) -> float:
    """Seconds the upload (``manifest`` open, or None) is kept once idle: its expiry while
    open, its record's lifetime once ended; ``default`` for one that recorded none."""
    expires = default
    if manifest is not None:
        try:
            recorded = json.loads(os.pread(manifest, 64 * 1024, 0)).get("expires")
        except (ValueError, AttributeError):
            recorded = None
        if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and recorded > 0:
            expires = recorded
    state = _state(dir_fd)
    return expires if state is None else record_lifetime(state, expires)


def _refresh_ended(dir_fd: int) -> None:
    """A chunk of an upload that was refused or expired: its record is kept while they come."""
    for state in (REFUSED, EXPIRED):
        if _exists(state, dir_fd):
            os.utime(state, dir_fd=dir_fd, follow_symlinks=False)


def _held(dir_fd: int, count: int) -> list[int]:
    try:
        fd = _open_file(RECEIVED, dir_fd, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        marks = os.pread(fd, count, 0)
    finally:
        os.close(fd)
    return [index for index, mark in enumerate(marks) if mark]


# One upload ----------------------------------------------------------------------


class DiskPartial(Partial):
    """One chunk request's view of its upload, holding the shared lock until :meth:`release`."""

    def __init__(self, dir_fd: int, lock_fd: int, manifest: Manifest, created: bool) -> None:
        self.dir_fd, self.lock_fd = dir_fd, lock_fd
        self.manifest = manifest
        self.created = created  # this request started the upload
        #: None while the upload is open, else ``complete``, ``refused`` or ``expired``.
        self.state = _state(dir_fd)
        #: Why it was refused: the status of the refusal (413 or 415).
        self.refusal = _refusal(dir_fd) if self.state == REFUSED else None
        self._data: Optional[int] = None

    def _data_file(self) -> int:
        if self._data is None:
            self._data = _open_file(DATA, self.dir_fd, os.O_RDWR | os.O_CREAT)
        return self._data

    def write(self, data: bytes, offset: int) -> None:
        with disk_errors():
            write_all(self._data_file(), data, offset)

    def mark_received(self, index: int) -> None:
        """Record chunk ``index`` as written whole (while the shared lock is held)."""
        with disk_errors():
            self._data_file()  # an empty file has its data file too
            fd = _open_file(RECEIVED, self.dir_fd, os.O_WRONLY | os.O_CREAT)
            try:
                write_all(fd, b"\x01", index)
            finally:
                os.close(fd)

    def held(self) -> list[int]:
        """The indices of the chunks received whole."""
        return _held(self.dir_fd, self.manifest.count)

    def _all_received(self) -> bool:
        try:
            fd = _open_file(RECEIVED, self.dir_fd, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            marks = os.pread(fd, self.manifest.count + 1, 0)
        finally:
            os.close(fd)
        return len(marks) == self.manifest.count and b"\x00" not in marks

    def release(self) -> None:
        """Drop the shared lock (the upload's folder stays open for what follows)."""
        if self._data is not None:
            os.close(self._data)
            self._data = None
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1

    def close(self) -> None:
        self.release()
        if self.dir_fd >= 0:
            os.close(self.dir_fd)
            self.dir_fd = -1

    @property
    def closed(self) -> bool:
        return self.dir_fd < 0

    def _exclusive(self, wait: bool) -> Optional[int]:
        """The manifest locked exclusively, or None if it is held (``wait`` off) or gone."""
        try:
            fd = _open_file(MANIFEST, self.dir_fd, os.O_RDWR)
        except FileNotFoundError:
            return None
        if not _lock_manifest(fd, exclusive=True, wait=wait) or _removed(fd):
            os.close(fd)
            return None
        return fd

    def hand_over(self) -> Optional["DiskHandOver"]:
        """The finished file, for one request at a time, once every chunk is received.

        Waits for chunk writers still at work. None if the upload is not whole or
        has ended (another request handed it over)."""
        assert self.lock_fd < 0, "release() the shared lock first"
        lock = self._exclusive(wait=True)
        if lock is None:
            return None
        try:
            if _state(self.dir_fd) is not None or not self._all_received():
                os.close(lock)
                return None
            data = _open_file(DATA, self.dir_fd, os.O_RDONLY)
        except BaseException:
            os.close(lock)
            raise
        return DiskHandOver(self.dir_fd, lock, data, self.manifest.total_size)

    def refuse(self, status: int = 415) -> None:
        """Refuse the upload (``status``: 413 or 415): its later chunks are refused too,
        and its bytes dropped."""
        assert self.lock_fd < 0, "release() the shared lock first"
        _touch(REFUSED, self.dir_fd, str(status).encode())
        lock = self._exclusive(wait=True)
        if lock is not None:
            _drop_bytes(self.dir_fd)
            os.close(lock)

    def discard_if_unused(self) -> None:
        """Remove the upload this request started if no chunk of it was received,
        unless another request is working on it."""
        assert self.lock_fd < 0, "release() the shared lock first"
        if not self.created:
            return
        lock = self._exclusive(wait=False)
        if lock is None:
            return
        try:
            if _state(self.dir_fd) is None and not self.held():
                _remove_upload(self.dir_fd)
        finally:
            os.close(lock)


class DiskHandOver(HandOver):
    """The finished file of a chunked upload, lent to one request.

    :meth:`commit` once the request succeeded: the upload is complete and its
    data file leaves the chunk folder. :meth:`give_back` if it failed: the
    upload stays whole and a resent chunk hands it over again.
    """

    def __init__(self, dir_fd: int, lock_fd: int, data_fd: int, size: int) -> None:
        self.dir_fd = os.dup(dir_fd)
        self.lock_fd = lock_fd
        self.manifest = _identity(lock_fd)
        _handing_over().add(self.manifest)
        self.data_fd = data_fd  # closed with the stream open() gives
        self.size = size
        self.linked = False  # its bytes were given a name: another name is a copy
        self._stream: Optional[IO[bytes]] = None

    def open(self) -> IO[bytes]:
        if self._stream is None:
            self._stream = os.fdopen(self.data_fd, "rb", buffering=0)
        self._stream.seek(0)
        return self._stream

    def _end(self) -> None:
        _handing_over().discard(self.manifest)
        os.close(self.lock_fd)
        os.close(self.dir_fd)
        self.lock_fd = self.dir_fd = -1

    def commit(self) -> None:
        if self.lock_fd < 0:
            return
        try:
            _drop_bytes(
                self.dir_fd
            )  # first: should the marker fail, no file is left to hand over twice
            _touch(COMPLETE, self.dir_fd)
        finally:
            self._end()

    def refuse(self, status: int) -> None:
        if self.lock_fd < 0:
            return
        try:
            _touch(REFUSED, self.dir_fd, str(status).encode())
            _drop_bytes(self.dir_fd)
        finally:
            self._end()

    def give_back(self) -> None:
        if self.lock_fd >= 0:
            self._end()


def _drop_bytes(dir_fd: int) -> int:
    return _unlink(DATA, dir_fd) + _unlink(RECEIVED, dir_fd)


def _remove_upload(dir_fd: int) -> int:
    """Remove the upload's own entries (the sweep removes the emptied folder)."""
    return sum(_unlink(name, dir_fd) for name in _own_entries(dir_fd))


# The store -----------------------------------------------------------------------


class DiskPartials(PartialStore):
    """Partial uploads in the chunk folder ``root``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def _root(self) -> int:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        except FileNotFoundError:
            with disk_errors():
                make_folder(self.root)
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)

    def _client(self, client: str) -> int:
        root = self._root()
        try:
            return _open_folder(client, root, create=True)
        finally:
            os.close(root)

    def open(
        self,
        client: str,
        chunk: Chunk,
        quota: Optional[int] = None,
        destination: Optional[tuple[str, str]] = None,
        expires: Optional[float] = None,
        unfinished: Optional[int] = None,
    ) -> DiskPartial:
        """The partial upload ``chunk`` belongs to, started by this chunk if it is the
        first (its manifest records ``expires``); the shared lock is held. Raises
        QuotaExceeded, BadChunk for a chunk that does not match its upload, and StoreBusy
        if the upload keeps vanishing."""
        assert CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(chunk.uuid)
        for _ in range(_ATTEMPTS):
            try:
                client_fd = self._client(client)
            except FileNotFoundError:
                continue  # the sweep removed the client's folder between creating and opening it
            try:
                partial = self._open_upload(client_fd, chunk, quota, unfinished, expires)
            except FileNotFoundError:
                partial = None  # a folder was removed under us: start over
            finally:
                os.close(client_fd)
            if partial is not None:
                return partial
        raise StoreBusy()

    def _open_upload(
        self,
        client_fd: int,
        chunk: Chunk,
        quota: Optional[int],
        unfinished: Optional[int],
        expires: Optional[float],
    ) -> Optional[DiskPartial]:
        dir_fd, created = self._start(client_fd, chunk, quota, unfinished, expires)
        try:
            lock = _open_file(MANIFEST, dir_fd, os.O_RDWR)
        except BaseException:
            os.close(dir_fd)
            raise
        try:
            if not _lock_manifest(lock, exclusive=False):
                raise StoreBusy()  # this thread hands the upload over: never wait for it
            if _removed(lock):
                os.close(lock)
                os.close(dir_fd)
                return None
            recorded = Manifest.from_json(os.pread(lock, 64 * 1024, 0))
            check_same_upload(recorded, chunk)
            _refresh_ended(dir_fd)
        except BaseException:
            os.close(lock)
            os.close(dir_fd)
            raise
        return DiskPartial(dir_fd, lock, recorded, created)

    def _start(
        self,
        client_fd: int,
        chunk: Chunk,
        quota: Optional[int],
        unfinished: Optional[int],
        expires: Optional[float],
    ) -> tuple[int, bool]:
        """The upload's folder, with its manifest; (folder, whether this request started it).

        An upload is started under the client's lock, so that concurrent first
        chunks of several uploads cannot pass the quota together, and the sweep
        (which takes that lock too) cannot remove what is being started."""
        try:
            dir_fd = _open_folder(chunk.uuid, client_fd)
            if _exists(MANIFEST, dir_fd):
                return dir_fd, False  # the usual case: the upload is under way
            os.close(dir_fd)
        except FileNotFoundError:
            pass
        lock = _client_lock(client_fd, wait=True)
        if lock is None:
            raise FileNotFoundError(errno.ENOENT, "the client's folder was removed")
        try:
            dir_fd = _open_folder(chunk.uuid, client_fd, create=True)
            try:
                if _exists(MANIFEST, dir_fd):
                    return dir_fd, False  # another chunk was first
                if quota is not None or unfinished is not None:
                    check_room(*_pending(client_fd), chunk.manifest.total_size, quota, unfinished)
                _write_new(MANIFEST, dir_fd, _manifest_json(chunk.manifest, expires))
            except BaseException:
                os.close(dir_fd)
                try:
                    os.rmdir(
                        chunk.uuid, dir_fd=client_fd
                    )  # refused or failed: no empty folder is left
                except OSError:
                    pass  # not empty: not ours to remove
                raise
            return dir_fd, True
        finally:
            os.close(lock)

    def _existing_upload(self, client: str, upload: str) -> Optional[int]:
        """The folder of the client's upload ``upload``, if there is one (nothing is created)."""
        if not (CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(upload)):
            return None
        try:
            root = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            client_fd = _open_folder(client, root)
            try:
                return _open_folder(upload, client_fd)
            finally:
                os.close(client_fd)
        except FileNotFoundError:
            return None
        finally:
            os.close(root)

    def held_chunks(self, client: str, upload: str) -> Optional[tuple[Manifest, list[int]]]:
        dir_fd = self._existing_upload(client, upload)
        if dir_fd is None:
            return None
        try:
            manifest = _read_manifest(dir_fd)
            if manifest is None or _state(dir_fd) is not None:
                return None
            return manifest, _held(dir_fd, manifest.count)
        except FileNotFoundError:
            return None
        finally:
            os.close(dir_fd)

    def cancel(self, client: str, upload: str) -> bool:
        dir_fd = self._existing_upload(client, upload)
        if dir_fd is None:
            return False
        try:
            lock = _open_file(MANIFEST, dir_fd, os.O_RDWR)
        except FileNotFoundError:
            os.close(dir_fd)
            return False
        except BaseException:  # a planted entry: UnsafeEntry
            os.close(dir_fd)
            raise
        try:
            if not _lock_manifest(lock, exclusive=True):  # chunk writers finish first
                return False  # this thread hands it over
            if _removed(lock) or _state(dir_fd) is not None:
                return False
            _touch(EXPIRED, dir_fd)
            _drop_bytes(dir_fd)
            return True
        finally:
            os.close(lock)
            os.close(dir_fd)

    def unfinished(self, client: str) -> tuple[int, int]:
        client_fd = self._client(client)
        try:
            return _pending(client_fd)
        finally:
            os.close(client_fd)

    # The sweep -------------------------------------------------------------------

    def clean(self, expires: float, now: Optional[float] = None) -> CleanReport:
        """Remove the bytes of uploads idle for longer than their manifest's expiry (else
        ``expires``), and the records of ended ones once idle for their lifetime."""
        now = time.time() if now is None else now
        report = CleanReport()
        try:
            root = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        except FileNotFoundError:
            return report
        try:
            for client in _folders(root, CLIENT_NAME):
                report.add(_clean_client(root, client, now, expires))
        finally:
            os.close(root)
        return report

    def clean_due(self, interval: float) -> bool:
        """Whether no process started a sweep in the last ``interval`` seconds; if so,
        the caller is the one to run it now."""
        root = self._root()
        try:
            try:
                if (
                    time.time() - os.stat(_CLEAN_STAMP, dir_fd=root, follow_symlinks=False).st_mtime
                    < interval
                ):
                    return False
            except FileNotFoundError:
                pass
            try:
                stamp = _open_file(_CLEAN_STAMP, root, os.O_WRONLY | os.O_CREAT)
            except UnsafeEntry:
                return False  # not ours: leave it, and clean on demand only
            try:
                os.utime(stamp)
            finally:
                os.close(stamp)
            return True
        finally:
            os.close(root)


def _folders(dir_fd: int, pattern: "re.Pattern[str]") -> Iterator[str]:
    """Names of real folders (not symlinks) in ``dir_fd`` that match ``pattern``."""
    with os.scandir(dir_fd) as entries:
        names = [
            entry.name
            for entry in entries
            if pattern.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
        ]
    return iter(names)


def _pending(client_fd: int) -> tuple[int, int]:
    """The declared bytes and the number of the client's unfinished uploads."""
    total = count = 0
    for name in _folders(client_fd, UPLOAD_NAME):
        try:
            dir_fd = _open_folder(name, client_fd)
        except (FileNotFoundError, UnsafeEntry):
            continue
        try:
            manifest = _read_manifest(dir_fd)
            if manifest is not None and _state(dir_fd) is None:
                total, count = total + manifest.total_size, count + 1
        except UnsafeEntry:
            pass  # not an upload of ours: it holds nothing
        finally:
            os.close(dir_fd)
    return total, count


def _clean_client(root: int, client: str, now: float, expires: float) -> CleanReport:
    """Clean one client's uploads under its lock (skipped while an upload is being started),
    then remove its folder if no upload is left."""
    report = CleanReport()
    try:
        client_fd = _open_folder(client, root)
    except (FileNotFoundError, UnsafeEntry):
        return report
    try:
        lock = _client_lock(client_fd, wait=False)
    except FileNotFoundError:
        lock = None
    except UnsafeEntry as error:
        log.error("the sweep leaves client folder %s alone: %s", client, error)
        lock = None
    if lock is None:
        os.close(client_fd)
        return report
    try:
        for name in _folders(client_fd, UPLOAD_NAME):
            report.add(_clean_upload(client_fd, name, now, expires))
        if not any(True for _ in _folders(client_fd, UPLOAD_NAME)):
            os.unlink(LOCK, dir_fd=client_fd)  # a request waiting on it starts over
            try:
                os.rmdir(client, dir_fd=root)
            except OSError:
                pass  # something that is not ours is in it: left alone
    finally:
        os.close(lock)
        os.close(client_fd)
    return report


def _clean_upload(client_fd: int, name: str, now: float, expires: float) -> CleanReport:
    report = CleanReport()
    try:
        dir_fd = _open_folder(name, client_fd)
    except (FileNotFoundError, UnsafeEntry):
        return report
    try:
        try:
            lock: Optional[int] = _open_file(MANIFEST, dir_fd, os.O_RDWR)
        except FileNotFoundError:
            lock = None  # a start cut short: nothing can be waiting on it
        except UnsafeEntry as error:
            log.error("the sweep leaves upload %s alone: %s", name, error)
            return report
        try:
            if now - _last_change(dir_fd) <= _kept_for(dir_fd, lock, expires):
                return report
            if lock is not None and (
                not _lock_manifest(lock, exclusive=True, wait=False) or _removed(lock)
            ):
                return report  # a request is at work on it
            if lock is None or _state(dir_fd) is not None:
                report.freed += _remove_upload(dir_fd)
                report.records += 1
                try:
                    os.rmdir(name, dir_fd=client_fd)
                except OSError:
                    pass  # something that is not ours is in it: left alone
            else:
                _touch(EXPIRED, dir_fd)  # first: on a full disk the upload stays as it was
                report.freed += _drop_bytes(dir_fd)
                report.partial_uploads += 1
        finally:
            if lock is not None:
                os.close(lock)
    finally:
        os.close(dir_fd)
    return report

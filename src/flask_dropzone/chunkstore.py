"""Partial chunked uploads on disk, shared by every worker process and thread.

One directory per upload, under the client it belongs to::

    <chunk folder>/<client>/<dzuuid>/manifest.json   what the upload declared
                                     data            the file, each chunk written at its offset
                                     received/<n>    chunk n arrived whole
                                     complete        the file was handed over (once)
                                     refused         its content was refused: so are its chunks

Coordination is by the file system, so any number of processes and threads can
serve one upload: the manifest and the ``complete`` marker are created
exclusively (concurrent chunks agree on one manifest; one request hands the
file over), and ``flock`` on the data file keeps chunk writers and that hand-over
apart. A chunk cut short (a killed worker, a dropped connection) leaves no
``received`` marker, so the client's retry writes it again.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Iterator, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks; run a single worker process there
    fcntl = None  # type: ignore[assignment]

from .chunks import BadChunk, Chunk, Manifest, check_same_upload
from .storage import TempFile

_CLEAN_STAMP = ".last-clean"


class PartialUpload:
    """One upload's directory. Chunk writers hold a shared lock on the data file
    while they write and record a chunk; the request that finds every chunk
    received takes the exclusive lock to hand the file over, so no byte can be
    written into a file once it is handed over."""

    def __init__(self, path: str, manifest: Manifest, created: bool) -> None:
        self.path = path
        self.manifest = manifest
        self.created = created  # this request started the upload

    def _marker(self, name: str) -> str:
        return os.path.join(self.path, name)

    @property
    def data_path(self) -> str:
        return self._marker("data")

    @property
    def complete(self) -> bool:
        return os.path.exists(self._marker("complete"))

    @property
    def refused(self) -> bool:
        return os.path.exists(self._marker("refused"))

    def open_for_chunk(self) -> Optional[int]:
        """The data file, locked for writing a chunk, or None if the upload is over."""
        fd = os.open(self.data_path, os.O_RDWR | os.O_CREAT, 0o644)
        _lock(fd, shared=True)
        if self.complete or self.refused:
            _unlink_if_same(self.data_path, fd)  # created by this late chunk
            os.close(fd)
            return None
        return fd  # written at offsets: it reaches its full size with the last chunk

    def mark_received(self, index: int) -> None:
        """Record chunk ``index`` as written whole (while its writer still holds the lock)."""
        marker = os.path.join(self._marker("received"), str(index))
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o644))

    def _received(self) -> int:
        try:
            return len(os.listdir(self._marker("received")))
        except FileNotFoundError:
            return 0

    def claim(self) -> Optional[TempFile]:
        """The finished file, for exactly one caller, once every chunk was received."""
        if self._received() != self.manifest.count:
            return None
        try:
            fd = os.open(self.data_path, os.O_RDWR)
        except FileNotFoundError:
            return None  # another request claimed it
        try:
            _lock(fd, shared=False)  # waits for chunk writers still at work
            if self.complete or self.refused or self._received() != self.manifest.count:
                return None
            os.close(os.open(self._marker("complete"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            taken = self._marker(f"data-{os.urandom(8).hex()}.complete")
            os.rename(self.data_path, taken)
            shutil.rmtree(self._marker("received"), ignore_errors=True)
            return TempFile.existing(taken)  # removed once the request is done with it
        finally:
            os.close(fd)

    def refuse(self) -> None:
        """Drop the upload's bytes and remember that its later chunks are refused too."""
        os.close(os.open(self._marker("refused"), os.O_CREAT | os.O_WRONLY, 0o644))
        shutil.rmtree(self._marker("received"), ignore_errors=True)
        try:
            os.unlink(self.data_path)
        except FileNotFoundError:
            pass

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(self.path))  # the client's folder, if now empty
        except OSError:
            pass

    def discard_if_unused(self) -> None:
        """Remove the upload this request started if no chunk of it was received."""
        if self.created and not self.complete and not self.refused and self._received() == 0:
            self.discard()


def _lock(fd: int, shared: bool) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)


def _unlink_if_same(path: str, fd: int) -> None:
    try:
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            os.unlink(path)
    except FileNotFoundError:
        pass


class ChunkStore:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def open(self, client: str, chunk: Chunk, quota: Optional[int] = None) -> PartialUpload:
        """The partial upload ``chunk`` belongs to, started by this chunk if it is the first."""
        path = os.path.join(self.root, client, chunk.uuid)
        manifest_path = os.path.join(path, "manifest.json")
        created = False
        if not os.path.exists(manifest_path):
            if quota is not None and self.pending_bytes(client) + chunk.manifest.total_size > quota:
                raise BadChunk("Too many unfinished uploads; finish or cancel some first.")
            os.makedirs(os.path.join(path, "received"), exist_ok=True)
            staging = TempFile(path)
            try:
                staging.write(chunk.manifest.to_json())
                staging.link(manifest_path)
                created = True
            except FileExistsError:
                pass  # another chunk of this upload got there first
            finally:
                staging.close()
        with open(manifest_path, "rb") as recorded:
            check_same_upload(Manifest.from_json(recorded.read()), chunk)
        return PartialUpload(path, chunk.manifest, created)

    def _uploads(self, client: Optional[str] = None) -> Iterator[str]:
        clients = [client] if client else _listdir(self.root)
        for name in clients:
            if name.startswith("."):
                continue
            for upload in _listdir(os.path.join(self.root, name)):
                yield os.path.join(self.root, name, upload)

    def pending_bytes(self, client: str) -> int:
        """Declared size of the client's unfinished uploads."""
        total = 0
        for path in self._uploads(client):
            try:
                with open(os.path.join(path, "manifest.json"), "rb") as recorded:
                    manifest = Manifest.from_json(recorded.read())
            except (OSError, ValueError, TypeError):
                continue
            if not os.path.exists(os.path.join(path, "complete")):
                total += manifest.total_size
        return total

    def clean(self, expires: float, now: Optional[float] = None) -> tuple[int, int]:
        """Remove uploads idle for more than ``expires`` seconds; return (how many, bytes freed)."""
        now = time.time() if now is None else now
        removed = freed = 0
        for path in list(self._uploads()):
            entries = _tree(path)
            if not entries or now - max(stat.st_mtime for stat in entries) <= expires:
                continue
            shutil.rmtree(path, ignore_errors=True)
            if not os.path.exists(path):
                removed += 1
                freed += sum(_allocated(stat) for stat in entries)
        for client in _listdir(self.root):
            if not client.startswith("."):
                try:
                    os.rmdir(os.path.join(self.root, client))  # only if empty
                except OSError:
                    pass
        return removed, freed

    def clean_if_due(self, expires: float, interval: float) -> None:
        """Run :meth:`clean` if no process did in the last ``interval`` seconds."""
        stamp = os.path.join(self.root, _CLEAN_STAMP)
        try:
            if time.time() - os.stat(stamp).st_mtime < interval:
                return
        except FileNotFoundError:
            pass
        os.makedirs(self.root, exist_ok=True)
        with open(stamp, "a"):
            os.utime(stamp)
        self.clean(expires)


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _tree(path: str) -> list[os.stat_result]:
    stats = []
    for folder, _, files in os.walk(path):
        for name in [None, *files]:
            try:
                stats.append(os.stat(folder if name is None else os.path.join(folder, name)))
            except FileNotFoundError:
                pass
    return stats


def _allocated(stat: os.stat_result) -> int:
    blocks = getattr(stat, "st_blocks", None)
    return blocks * 512 if blocks is not None else stat.st_size

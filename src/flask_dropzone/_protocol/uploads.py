"""A received file (``Upload``, a Werkzeug ``FileStorage``) and a stored one (``SavedFile``),
and the answer that names what was stored."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, fields
from typing import IO, Iterable, Iterator, Optional, Union

from werkzeug.datastructures import FileStorage, Headers

from .._rules import metadata
from .._rules.filenames import safe_filename
from .._rules.settings import Options
from .._rules.sniffing import HEAD_SIZE
from .._stores import (
    FileStore,
    HandOver,
    Staged,
    Stored,
)
from ..errors import FileTypeRefused

#: Bytes read at a time from a file being stripped of its metadata.
STRIP_READ = 1024 * 1024


@dataclass(frozen=True)
class SavedFile:
    """A file ``dropzone.save()`` stored."""

    filename: str  #: the name the client gave
    stored_name: str  #: the name it has in the folder
    path: Optional[str]  #: where it is on disk (None in object storage)
    size: int
    mimetype: str  #: from its content where that can be told, else from its name
    location: str = ""  #: where it is in its store: the path on disk, the key in a bucket
    zone: Optional[str] = None  #: the named zone (``DROPZONE_ZONES``) it was stored for, if any


#: A SavedFile's fields: what a row keeps to make it again (``SavedFile(**row)``).
SAVED_FIELDS = tuple(field.name for field in fields(SavedFile))


def stored_entry(saved: SavedFile) -> dict[str, str]:
    """What a page is told of a stored file, in every answer that names one: the client's
    name for it (to find its preview) and the name it was stored under."""
    return {"filename": saved.filename, "stored_name": saved.stored_name}


def answer(saved: Iterable[SavedFile]) -> dict[str, list[dict[str, str]]]:
    """The answer saying what a request stored, the same from a view and from the extension's
    own endpoints: ``{"stored": [{"filename", "stored_name"}, ...]}``."""
    return {"stored": [stored_entry(each) for each in saved]}


class Upload(FileStorage):
    """A received file: a Werkzeug ``FileStorage`` that also knows its ``size``,
    its ``safe_name`` (the name it is judged and stored under), its first bytes
    and, once checked, its ``detected_type``; it is stored through the app's file
    store, which names the bytes it already holds instead of copying them."""

    def __init__(
        self,
        stream: Optional[IO[bytes]],
        filename: str,
        name: str,
        headers: Headers,
        size: int,
        head: bytes,
        *,
        store: FileStore,
        staged: Optional[Staged] = None,
        handover: Optional[HandOver] = None,
    ) -> None:
        super().__init__(stream, filename, name, headers=headers)
        self._stream = stream  # None: a staged file at rest, opened again when read
        self.size = size
        self.head = head
        #: The name it is judged by and stored under: :func:`safe_filename` of ``filename``.
        self.safe_name = safe_filename(filename)
        #: The type from the content where it can be told, else from the name.
        self.detected_type = "application/octet-stream"
        self._store = store
        self._staged = staged
        self._handover = handover
        self._published: list[Stored] = []
        self._saved_elsewhere = False
        #: The settings it was judged by while it arrived (None: not judged yet).
        self.judged_by: Optional[Options] = None
        #: Stored without its metadata (``strip_metadata`` of the settings that judged it).
        self.strip = False
        #: Stripped as it arrived: its bytes are what is stored.
        self.stripped_as_received = False
        self._prepared: Optional[Union[bytes, Staged]] = None  # its stripped bytes
        self._prepared_size = 0

    @property
    def chunked(self) -> bool:
        """Whether it is the file of a chunked upload, handed over to this request."""
        return self._handover is not None

    @property
    def reserved(self) -> Optional[tuple[str, str]]:
        """The folder and name its store held for it while it arrived in chunks, if any."""
        return getattr(self._handover, "reserved", None)

    @property  # type: ignore[override]
    def stream(self) -> IO[bytes]:
        if self._stream is None:
            assert self._staged is not None
            self._stream = self._staged.open()
        return self._stream

    @stream.setter
    def stream(self, value: IO[bytes]) -> None:
        self._stream = value

    @classmethod
    def wrap(cls, file: FileStorage, store: FileStore) -> "Upload":
        """An Upload over a file Werkzeug's form parser already stored."""
        stream = file.stream
        stream.seek(0)
        head = stream.read(HEAD_SIZE)
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
        return cls(
            stream, file.filename or "", file.name or "", file.headers, size, head, store=store
        )

    @property
    def strips(self) -> bool:
        """Whether it is stored stripped of its metadata: judged so, and an image that can be."""
        return (
            self.strip
            and not self.stripped_as_received
            and metadata.stripper(self.head) is not None
        )

    def stripped(self) -> Iterator[bytes]:
        """Its bytes as they are stored without metadata; FileTypeRefused (nothing to store)
        when the image is too damaged to strip."""
        stripper = metadata.stripper(self.head)
        assert stripper is not None
        self.stream.seek(0)
        try:
            for block in iter(lambda: self.stream.read(STRIP_READ), b""):
                yield stripper.feed(block)
            yield stripper.end()
        except metadata.Damaged as damaged:
            raise FileTypeRefused(metadata.DAMAGED_MESSAGE.format(reason=damaged)) from None

    def save(
        self, dst: Union[str, "os.PathLike[str]", IO[bytes]], buffer_size: int = 16384
    ) -> None:
        if self.strips:
            self._save_stripped(dst)
            return
        source = self._staged or self._handover
        if isinstance(dst, (str, os.PathLike)) and source is not None:
            target = os.path.abspath(os.fspath(dst))
            if self._store.save_as(source, target):
                self._published.append(Stored(os.path.basename(target), target, target))
                return
        self.stream.seek(0)
        super().save(dst, buffer_size)
        self._saved_elsewhere = True

    def _save_stripped(self, dst: Union[str, "os.PathLike[str]", IO[bytes]]) -> None:
        """``save`` without metadata: a path is removed again when the image is damaged."""
        if not isinstance(dst, (str, os.PathLike)):
            for block in self.stripped():
                dst.write(block)
            self._saved_elsewhere = True
            return
        with open(dst, "wb") as file:
            try:
                for block in self.stripped():
                    file.write(block)
            except BaseException:
                os.unlink(dst)
                raise
        self._saved_elsewhere = True

    @property
    def kept(self) -> bool:
        """Whether this request stored the file (``publish``, or ``save`` to a path)."""
        return bool(self._published) or self._saved_elsewhere

    def publish(self, folder: str, name: Optional[str] = None) -> SavedFile:
        """Store the file in ``folder`` under ``name`` (a safe name; default ``safe_name``)
        or a free variant of it; never overwrite."""
        store = self._store
        name = name or self.safe_name
        source = self._staged or self._handover
        size = self.size
        self.prepare(folder)
        if self._prepared is not None:
            size = self._prepared_size
            stored = store.publish(self._prepared, folder, name, size)
        elif source is not None:
            stored = store.publish(source, folder, name, self.size)
        elif isinstance(self._stream, io.BytesIO):
            stored = store.publish(self._stream.getvalue(), folder, name, self.size)
        else:  # a file Werkzeug received: staged again by the store
            staged = store.stage(folder)
            try:
                self.stream.seek(0)
                for block in iter(lambda: self.stream.read(1024 * 1024), b""):
                    staged.write(block)
                staged.finish()
                stored = store.publish(staged, folder, name, self.size)
            finally:
                staged.close()
        self._published.append(stored)
        return SavedFile(
            filename=self.filename or "",
            stored_name=stored.name,
            path=stored.path,
            size=size,
            mimetype=self.detected_type,
            location=stored.location,
        )

    def prepare(self, folder: str) -> None:
        """Strip the file of its metadata now, before anything of its request is stored (to
        be stored in ``folder``): a damaged image is refused (FileTypeRefused) with nothing
        stored. Nothing to do for a file stored as it is, or prepared already."""
        if not self.strips or self._prepared is not None:
            return
        if isinstance(self._stream, io.BytesIO):  # a small file: stripped in memory
            data = b"".join(self.stripped())
            self._prepared, self._prepared_size = data, len(data)
            return
        staged = self._store.stage(folder)
        try:
            for block in self.stripped():
                if block:
                    staged.write(block)
                    self._prepared_size += len(block)
            staged.finish()
        except BaseException:
            staged.close()
            self._prepared_size = 0
            raise
        self._prepared = staged

    def settle(self, status: Optional[int]) -> None:
        """End a chunked upload's hand-over once the request has answered ``status``
        (None: it failed): committed on success; refused with its file; otherwise
        given back, the names it was given removed, for a resent chunk to hand over again."""
        handover, self._handover = self._handover, None
        if handover is None:
            return
        if status is not None and status < 400:
            handover.commit()
        elif status in (413, 415):
            handover.refuse(status)
        else:
            self._store.unpublish(handover, self._published)
            handover.give_back()

    def refuse(self, status: int) -> None:
        """Refuse a chunked upload's file for good (its later chunks get ``status``'s refusal)."""
        handover, self._handover = self._handover, None
        if handover is not None:
            self._store.unpublish(handover, self._published)
            handover.refuse(status)

    def close(self) -> None:
        self.settle(None)
        if self._stream is not None:
            self._stream.close()
        if self._staged is not None:
            self._staged.close()
        if isinstance(self._prepared, Staged):
            self._prepared.close()

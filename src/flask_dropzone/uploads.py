"""Uploaded files: received part by part, checked as they arrive, stored once."""

from __future__ import annotations

import errno
import io
import os
import re
from dataclasses import dataclass
from typing import IO, Any, Optional, Union

from werkzeug.datastructures import FileStorage, Headers

from . import chunks, storage, validation
from .chunkstore import ChunkStore
from .errors import FileTypeRefused
from .filenames import safe_filename
from .settings import Options
from .sniffing import HEAD_SIZE

# Linking fails across file systems (and where hard links are not allowed): copy instead.
_NOT_LINKABLE = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP)

#: Requests up to this size keep their files in memory when no folder is known
#: to be their destination (Werkzeug's own threshold).
MEMORY_LIMIT = 500 * 1024


@dataclass(frozen=True)
class SavedFile:
    """A file ``dropzone.save()`` stored."""

    filename: str  #: the name the client gave
    stored_name: str  #: the name it has in the folder
    path: str
    size: int
    mimetype: str  #: from its content where that can be told, else from its name


class Upload(FileStorage):
    """A received file: a Werkzeug ``FileStorage`` that also knows its ``size``,
    its first bytes and, once checked, its ``detected_type``; its ``save()``
    links instead of copying when the bytes already sit on the same disk."""

    def __init__(
        self,
        stream: IO[bytes],
        filename: str,
        name: str,
        headers: Headers,
        size: int,
        head: bytes,
        temp: Optional[storage.TempFile] = None,
    ) -> None:
        super().__init__(stream, filename, name, headers=headers)
        self.size = size
        self.head = head
        #: The type from the content where it can be told, else from the name.
        self.detected_type = "application/octet-stream"
        self._temp = temp
        self._linkable = temp is not None  # until its bytes have been given a name

    @classmethod
    def wrap(cls, file: FileStorage) -> "Upload":
        """An Upload over a file Werkzeug's form parser already stored."""
        stream = file.stream
        stream.seek(0)
        head = stream.read(HEAD_SIZE)
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
        return cls(stream, file.filename or "", file.name or "", file.headers, size, head)

    def _take_temp(self) -> Optional[storage.TempFile]:
        """The temporary file holding the bytes, once: a second name must be a copy,
        not another link to the same inode."""
        temp, self._linkable = (self._temp if self._linkable else None), False
        return temp

    def save(self, dst: Union[str, "os.PathLike[str]", IO[bytes]], buffer_size: int = 16384) -> None:
        if isinstance(dst, (str, os.PathLike)):
            temp = self._take_temp()
            if temp is not None:
                try:
                    temp.replace(os.fspath(dst))
                    return
                except OSError as error:
                    if error.errno not in _NOT_LINKABLE:
                        raise
        self.stream.seek(0)
        super().save(dst, buffer_size)

    def publish(self, folder: str) -> SavedFile:
        """Store the file in ``folder`` under a safe, free name; never overwrite."""
        folder = os.path.abspath(folder)
        name = safe_filename(self.filename or "")
        stored = None
        temp = self._take_temp()
        if temp is not None:
            try:
                stored = storage.publish(temp, folder, name)
            except OSError as error:
                if error.errno not in _NOT_LINKABLE:
                    raise
        elif isinstance(self.stream, io.BytesIO):
            stored = storage.write_new(self.stream.getvalue(), folder, name)
        if stored is None:
            self.stream.seek(0)
            copy = storage.copy_into(self.stream, folder)
            try:
                stored = storage.publish(copy, folder, name)
            finally:
                copy.close()
        return SavedFile(
            filename=self.filename or "",
            stored_name=stored,
            path=os.path.join(folder, stored),
            size=self.size,
            mimetype=self.detected_type,
        )

    def close(self) -> None:
        super().close()
        if self._temp is not None:
            self._temp.close()


def field_index(field: str, input_name: str) -> Optional[int]:
    """-1 for ``input_name`` itself, N for ``input_name[N]``, None for other fields."""
    if field == input_name:
        return -1
    match = re.fullmatch(re.escape(input_name) + r"\[(\d{1,9})\]", field)
    return int(match.group(1)) if match else None


def in_order(uploads: list[Upload], input_name: str) -> list[Upload]:
    """The files of ``input_name`` in the order the browser sent them: repeated
    fields as they came, indexed fields by index (``file[10]`` after ``file[9]``)."""
    indexed = [(field_index(upload.name or "", input_name), upload) for upload in uploads]
    mine = [(index, upload) for index, upload in indexed if index is not None]
    return [upload for _, upload in sorted(mine, key=lambda pair: pair[0])]


class FileSink:
    """Where one file part's bytes go while it arrives; checks them if ``options`` is set."""

    def __init__(
        self,
        name: str,
        filename: str,
        headers: Headers,
        folder: Optional[str],
        options: Optional[Options],
    ) -> None:
        self.name, self.filename, self.headers = name, filename, headers
        self.options = options
        self.limit = validation.size_limit(options) if options else None
        self.size = 0
        self.head = b""
        self.typed = options is None
        self.temp = storage.TempFile(folder) if folder else None
        self.buffer: Optional[io.BytesIO] = None if self.temp else io.BytesIO()
        self.upload: Optional[Upload] = None

    def write(self, data: Union[bytes, memoryview]) -> None:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise validation.too_large(self.size, self.options)  # type: ignore[arg-type]
        if len(self.head) < HEAD_SIZE:
            self.head += data[: HEAD_SIZE - len(self.head)]
            if len(self.head) == HEAD_SIZE:
                self._check_type()
        (self.temp.file if self.temp else self.buffer).write(data)  # type: ignore[union-attr]

    def _check_type(self) -> None:
        if not self.typed:
            self.typed = True
            validation.check_type(self.filename, self.head, self.options)  # type: ignore[arg-type]

    def finish(self) -> None:
        stream: Any = self.temp.file if self.temp else self.buffer
        stream.seek(0)
        self.upload = Upload(
            stream, self.filename, self.name, self.headers, self.size, self.head, self.temp
        )

    def discard(self) -> None:
        if self.upload is not None:
            self.upload.close()
        elif self.temp is not None:
            self.temp.close()


class ChunkSink:
    """One chunk of a chunked upload: checked, then written at its offset in the
    partial file; the request that completes the file gets it as an Upload."""

    def __init__(
        self,
        name: str,
        headers: Headers,
        chunk: chunks.Chunk,
        options: Options,
        store: ChunkStore,
        client: str,
    ) -> None:
        manifest = chunk.manifest
        # Refused on the first chunk that arrives, before any byte is stored.
        validation.check_size(manifest.total_size, options)
        validation.check_name(manifest.filename, options)
        quota = None if options.chunk_quota is None else int(options.chunk_quota * validation.MIB)
        self.name, self.headers, self.chunk, self.options = name, headers, chunk, options
        self.partial = store.open(client, chunk, quota)
        if self.partial.refused:
            raise FileTypeRefused(options.invalid_file_type)
        self.fd = self.partial.open_for_chunk()  # None: a late copy of a finished upload's chunk
        self.received = 0
        self.head = b""
        self.upload: Optional[Upload] = None

    def write(self, data: Union[bytes, memoryview]) -> None:
        problem = chunks.check_length(self.chunk, self.received + len(data), finished=False)
        if problem:
            raise chunks.BadChunk(problem)
        if self.fd is not None:
            view, position = memoryview(data), self.chunk.offset + self.received
            while view:
                written = os.pwrite(self.fd, view, position)
                view, position = view[written:], position + written
        self.received += len(data)
        if self.chunk.index == 0 and len(self.head) < HEAD_SIZE:
            self.head += data[: HEAD_SIZE - len(self.head)]
            if len(self.head) == HEAD_SIZE:
                self._check_type()

    def _check_type(self) -> None:
        try:
            validation.check_type(self.chunk.manifest.filename, self.head, self.options)
        except FileTypeRefused:
            self.partial.refuse()  # the whole upload is refused
            raise

    def finish(self) -> None:
        problem = chunks.check_length(self.chunk, self.received, finished=True)
        if problem:
            raise chunks.BadChunk(problem)
        if self.chunk.index == 0 and len(self.head) < HEAD_SIZE:
            self._check_type()
        if self.fd is None:
            return
        try:
            self.partial.mark_received(self.chunk.index)
        except FileNotFoundError:
            if self.partial.refused:
                raise FileTypeRefused(self.options.invalid_file_type) from None
            raise chunks.BadChunk("This upload has expired.") from None
        finally:
            os.close(self.fd)  # releases the lock
            self.fd = None
        temp = self.partial.claim()
        if temp is not None:
            head = os.pread(temp.file.fileno(), HEAD_SIZE, 0)
            manifest = self.chunk.manifest
            self.upload = Upload(
                temp.file, manifest.filename, self.name, self.headers, manifest.total_size, head, temp
            )

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.upload is not None:
            self.upload.close()
        else:
            self.partial.discard_if_unused()

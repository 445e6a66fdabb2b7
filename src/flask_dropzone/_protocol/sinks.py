"""Where a request's file parts go while they arrive (the parser's sinks): a file part into
memory, then the store's staging, judged as it comes; a chunk into its upload."""

from __future__ import annotations

import io
import re
from typing import IO, TYPE_CHECKING, Callable, Optional, TypeVar

from werkzeug.datastructures import Headers

from .._rules import chunks, metadata, validation
from .._rules.filenames import safe_filename, stored_name
from .._rules.settings import Options
from .._rules.sniffing import HEAD_SIZE
from .._stores import (
    COMPLETE,
    EXPIRED,
    REFUSED,
    FileStore,
    NameLost,
    PartialStore,
    QuotaExceeded,
    Staged,
    StoreBusy,
)
from ..errors import (
    FileTooLarge,
    FileTypeRefused,
    NameTaken,
    UploadBusy,
    UploadExpired,
    UploadRefused,
)
from .uploads import Upload

if TYPE_CHECKING:
    from .parsing import Receiver

T = TypeVar("T")

#: A file part is held in memory up to this size (Werkzeug's own threshold), then
#: written to a temporary file in the folder it will be stored in.
MEMORY_LIMIT = 500 * 1024
#: Most bytes of file parts one request holds in memory; later parts go to disk at once.
REQUEST_MEMORY = 4 * 1024 * 1024
#: Most temporary files one request keeps open; the others are closed under a hidden name.
MAX_OPEN_FILES = 16


def field_index(field: str, input_name: str) -> Optional[int]:
    """-1 for ``input_name`` itself, N for ``input_name[N]``, None for other fields."""
    if field == input_name:
        return -1
    match = re.fullmatch(re.escape(input_name) + r"\[(\d{1,9})\]", field)
    return int(match.group(1)) if match else None


def in_order(parts: list[tuple[str, T]], input_name: str) -> list[T]:
    """The files of ``input_name``, from (field, file) pairs, in the order the browser
    sent them: repeated fields as they came, indexed fields by index (``file[10]``
    after ``file[9]``)."""
    indexed = [(field_index(field, input_name), item) for field, item in parts]
    mine = [(index, item) for index, item in indexed if index is not None]
    return [item for _, item in sorted(mine, key=lambda pair: pair[0])]


class Head:
    """A file's first bytes, kept as they arrive, to judge its type by once there are enough
    (or once the file ends)."""

    def __init__(self) -> None:
        self.data = b""

    @property
    def complete(self) -> bool:
        return len(self.data) >= HEAD_SIZE

    def add(self, data: bytes) -> bool:
        """Keep what the head still lacks of ``data``; whether that completed it."""
        if self.complete:
            return False
        self.data += bytes(data[: HEAD_SIZE - len(self.data)])
        return self.complete


class FileSink:
    """Where one file part's bytes go while it arrives: memory, then the file store's
    staging once it is large. ``options`` are the settings it is judged by while it
    arrives; None for a part received as it is (another field's file, or a form read
    before the zone's settings were known)."""

    def __init__(
        self,
        receiver: "Receiver",
        name: str,
        filename: str,
        headers: Headers,
        folder: str,
        options: Optional[Options],
        per_file: Optional[bool] = None,
    ) -> None:
        self.receiver = receiver
        self.name, self.filename, self.headers, self.folder = name, filename, headers, folder
        #: Refused on its own (one outcome per file), or with the whole request.
        self.per_file = receiver.per_file if per_file is None else per_file
        self.safe_name = safe_filename(filename)
        self.options = options
        self.limit = validation.size_limit(options) if options else None
        self.size = 0
        self.head = Head()
        self.typed = options is None
        self.detected_type = "application/octet-stream"
        self.memory: Optional[bytearray] = bytearray()
        self.staged: Optional[Staged] = None
        self.upload: Optional[Upload] = None
        self.refusal: Optional[UploadRefused] = None
        self.done = False
        #: Its metadata stripped as it arrives (``strip_metadata``), once its first bytes
        #: say it is an image that can be; ``stored``, the bytes kept.
        self.stripper: Optional[metadata.Stripper] = None
        self.stored = 0

    def write(self, data: bytes) -> None:
        if self.refusal is not None:
            self.size += len(data)  # refused: the rest is read and counted, not kept
            return
        self.size += len(data)
        try:
            if self.limit is not None and self.size > self.limit:
                size = self.size if self.per_file else self.receiver.size_of_only_file(self)
                raise validation.too_large(size, self.options)  # type: ignore[arg-type]
            if self.head.add(data):
                self._check_type()
            if self.size == len(data) and self.options and self.options.strip_metadata:
                self.stripper = metadata.stripper(bytes(data[:16]))
            if self.stripper is not None:
                data = self._strip(self.stripper.feed, data)
        except UploadRefused as refused:
            self.refuse(refused)
            return
        self._keep(data)

    def _keep(self, data: bytes) -> None:
        """Keep bytes of the file: in memory while it is small, else in the store's staging."""
        self.stored += len(data)
        if self.memory is not None:
            if self.stored <= MEMORY_LIMIT and self.receiver.memory + len(data) <= REQUEST_MEMORY:
                self.memory += data
                self.receiver.memory += len(data)
                return
            self._spill()
        self.staged.write(data)  # type: ignore[union-attr]

    @staticmethod
    def _strip(step: Callable[[bytes], bytes], data: bytes) -> bytes:
        """The bytes to keep for ``data``; a damaged image is refused as of another type."""
        try:
            return step(data)
        except metadata.Damaged as damaged:
            raise FileTypeRefused(metadata.DAMAGED_MESSAGE.format(reason=damaged)) from None

    def refuse(self, refused: UploadRefused) -> None:
        """Refuse the file: the whole request, or (one outcome per file) this file alone."""
        refused.about(self.filename)
        if not self.per_file:
            raise refused
        self.refusal = refused
        if self.memory is not None:
            self.receiver.memory -= len(self.memory)
            self.memory = None
        if self.staged is not None:
            self.staged.close()
            self.staged = None

    @property
    def finished(self) -> bool:
        return self.upload is not None or self.done

    def _spill(self) -> None:
        assert self.memory is not None
        self.staged = self.receiver.files.stage(self.folder)
        self.staged.write(self.memory)
        self.receiver.memory -= len(self.memory)
        self.memory = None

    def _check_type(self) -> None:
        if not self.typed:
            self.typed = True
            options = self.options
            assert options is not None
            self.detected_type = validation.check_type(self.safe_name, self.head.data, options)

    def finish(self) -> None:
        self.done = True
        if self.refusal is None:
            try:
                self._check_type()
                stripper = self.stripper
                if stripper is not None:
                    self._keep(self._strip(lambda _: stripper.end(), b""))
            except UploadRefused as refused:
                self.refuse(refused)
        if isinstance(self.refusal, FileTooLarge):  # now its whole size is known
            # a file refused while it arrived was judged by settings
            judged_by: Options = self.options  # type: ignore[assignment]
            self.refusal = validation.too_large(self.size, judged_by).about(self.filename)
        if self.refusal is not None:
            return
        stream: Optional[IO[bytes]]
        if self.staged is None:
            stream = io.BytesIO(self.memory)  # type: ignore[arg-type]
        else:
            self.staged.finish()
            if self.receiver.open_files < MAX_OPEN_FILES:
                self.receiver.open_files += 1
                stream = self.staged.open()
            else:
                self.staged.rest()
                stream = None
        self.upload = Upload(
            stream,
            self.filename,
            self.name,
            self.headers,
            self.stored,
            self.head.data,
            store=self.receiver.files,
            staged=self.staged,
        )
        if self.options is not None:  # judged while it arrived: size and type need no second look
            self.upload.judged_by, self.upload.detected_type = self.options, self.detected_type
        self.upload.stripped_as_received = self.stripper is not None
        self.memory = None

    def discard(self) -> None:
        if self.upload is not None:
            self.upload.close()
        elif self.staged is not None:
            self.staged.close()


class ChunkSink:
    """One chunk of a chunked upload: checked, then written at its offset in the
    partial file; the request that completes the file gets it as an Upload."""

    def __init__(
        self,
        name: str,
        headers: Headers,
        chunk: chunks.Chunk,
        options: Options,
        store: PartialStore,
        files: FileStore,
        client: str,
        folder: str,
    ) -> None:
        manifest = chunk.manifest
        self.filename = manifest.filename
        self.safe_name = safe_filename(manifest.filename)
        # Refused on the first chunk that arrives, before any byte is stored.
        validation.check_size(manifest.total_size, options)
        validation.check_name(self.safe_name, options)
        quota = None if options.chunk_quota is None else int(options.chunk_quota * validation.MIB)
        self.name, self.headers, self.chunk, self.options, self.files = (
            name,
            headers,
            chunk,
            options,
            files,
        )
        try:
            self.partial = store.open(
                client,
                chunk,
                quota,
                self._destination(folder, options),
                options.chunk_expires,
                options.unfinished_uploads,
            )
        except QuotaExceeded:
            raise chunks.BadChunk(
                "Too many unfinished uploads; finish or cancel some first."
            ) from None
        except StoreBusy:
            raise UploadBusy("The server is busy with this upload; send the chunk again.") from None
        self._refuse_if_ended()
        self.late = (
            self.partial.state == COMPLETE
        )  # a copy of a chunk of a finished upload: not kept
        self.finished = False
        self.received = 0
        self.head = Head()  # of chunk 0
        self.upload: Optional[Upload] = None

    def _destination(self, folder: str, options: Options) -> Optional[tuple[str, str]]:
        """Where the file will likely be stored, when its name does not depend on the file."""
        if options.stored_name not in ("original", "random"):
            return None
        return folder, stored_name(self.filename, options.stored_name)

    def _refuse_if_ended(self) -> None:
        """A chunk of an upload that was refused or expired is refused for the same reason
        (a store may learn that only once it tries to keep the chunk)."""
        state, refusal = self.partial.state, self.partial.refusal
        if state not in (REFUSED, EXPIRED):
            return
        self.partial.close()
        if refusal == 413:
            raise validation.too_large(self.chunk.manifest.total_size, self.options)
        if refusal == 415:  # its name passed (the chunk got this far): its content did not
            raise validation.content_refused(self.safe_name, self.options)
        if state == REFUSED:
            raise chunks.BadChunk("This upload was refused; add the file again.")
        raise UploadExpired("This upload has expired; add the file again.")

    def write(self, data: bytes) -> None:
        problem = chunks.check_length(self.chunk, self.received + len(data), finished=False)
        if problem:
            raise chunks.BadChunk(problem)
        if not self.late:
            self.partial.write(data, self.chunk.offset + self.received)
        self.received += len(data)
        if self.chunk.index == 0 and self.head.add(data):
            self._check_type()

    def _check_type(self) -> None:
        if self.late:
            return
        try:
            validation.check_type(self.safe_name, self.head.data, self.options)
        except FileTypeRefused:
            self.partial.release()
            self.partial.refuse()  # the whole upload is refused
            raise

    def finish(self) -> None:
        problem = chunks.check_length(self.chunk, self.received, finished=True)
        if problem:
            raise chunks.BadChunk(problem)
        if self.chunk.index == 0 and not self.head.complete:
            self._check_type()
        self.finished = True
        if self.late:
            self.partial.close()
            return
        try:
            self.partial.mark_received(self.chunk.index)
            self._refuse_if_ended()
            self.partial.release()
            handover = self.partial.hand_over()
        except StoreBusy:
            self.partial.close()
            raise UploadBusy("The server is busy with this upload; send the chunk again.") from None
        except NameLost:  # the upload ended, and what took its name stays
            self.partial.close()
            raise NameTaken() from None
        self.partial.close()
        if handover is not None:
            manifest = self.chunk.manifest
            stream = handover.open()  # the Upload closes it
            head = stream.read(HEAD_SIZE)
            stream.seek(0)
            self.upload = Upload(
                stream,
                manifest.filename,
                self.name,
                self.headers,
                manifest.total_size,
                head,
                store=self.files,
                handover=handover,
            )

    def discard(self) -> None:
        if self.upload is not None:
            self.upload.close()
        elif not self.partial.closed:
            try:
                self.partial.release()
                self.partial.discard_if_unused()
            finally:
                self.partial.close()  # its folder's descriptor, even when the clean-up fails

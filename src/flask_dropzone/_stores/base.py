"""The store interface: where received files are kept, named and read back, and where
the chunks of a partial upload wait. Receiving and the chunk protocol use only this;
each backend (``disk``, ``s3``) implements it."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator, Optional, Union

from .._rules.chunks import Chunk, Manifest
from .._rules.direct import Ticket

Bytes = Union[bytes, bytearray, memoryview]


class StoreFull(Exception):
    """The store has no room for the file (a full disk or quota)."""


class StoreLimit(Exception):
    """The file is larger than the store can hold."""


class StoreUnavailable(Exception):
    """The store cannot be used (a bucket missing, credentials refused); the message says why."""


class QuotaExceeded(Exception):
    """Starting the upload would take the client over its quota of pending bytes or uploads."""


def check_room(
    held: int, count: int, size: int, quota: Optional[int], unfinished: Optional[int]
) -> None:
    """QuotaExceeded if one more upload of ``size`` bytes takes a client that has ``count``
    unfinished uploads of ``held`` bytes past ``quota`` bytes or ``unfinished`` uploads
    (declaring a size of 0 must not open uploads without end)."""
    if (quota is not None and held + size > quota) or (
        unfinished is not None and count >= unfinished
    ):
        raise QuotaExceeded()


class StoreBusy(Exception):
    """The partial upload kept changing under the request; the chunk should be sent again."""


class NameLost(Exception):
    """The name held for a file is no longer its placeholder (removed, then taken by another
    file): the file is not completed there, and what is there stays."""


@dataclass(frozen=True)
class Stored:
    """Where a published file is: its name, its store-neutral location, and its path on disk."""

    name: str
    location: str
    path: Optional[str] = None


class Staged(ABC):
    """The bytes of one file being received, kept until published or closed."""

    size: int = 0

    @abstractmethod
    def write(self, data: Bytes) -> None: ...

    def finish(self) -> None:  # noqa: B027  (optional: a store that needs no last step)
        """Every byte was written."""

    def rest(self) -> None:  # noqa: B027  (optional)
        """Give back what an idle staged file holds (an open descriptor) until it is read."""

    #: Whether a process that dies while receiving leaves something for ``clean`` to remove.
    leaves_traces = False

    @abstractmethod
    def open(self) -> IO[bytes]:
        """The bytes, to read from the start."""

    @abstractmethod
    def close(self) -> None:
        """Forget the bytes, unless they were published."""


class HandOver(ABC):
    """The finished file of a partial upload, lent to the one request that completed it."""

    size: int

    @abstractmethod
    def open(self) -> IO[bytes]:
        """The file's bytes, to read from the start (closed by the caller)."""

    @abstractmethod
    def commit(self) -> None:
        """The request succeeded: the upload is complete, its bytes leave the partial store."""

    @abstractmethod
    def refuse(self, status: int) -> None:
        """The file was refused (413 or 415): the upload is refused, its bytes dropped."""

    @abstractmethod
    def give_back(self) -> None:
        """The request failed: the upload stays whole, and a resent chunk hands it over again."""


class Claim(ABC):
    """A pending file taken by one claim and stored (``stored``): the claim ends in
    :meth:`finish` (the pending file goes) or :meth:`undo` (the stored copy goes and the
    file is pending again), so that several files are claimed all or none."""

    stored: Stored

    @abstractmethod
    def finish(self) -> None:
        """The claim stands: the pending file is removed (a claim sent again finds nothing)."""

    @abstractmethod
    def undo(self) -> None:
        """The claim is given up: what it stored goes, and the file can be claimed again."""


class FileStore(ABC):
    """Where files are stored under names that never replace one another."""

    @abstractmethod
    def folder(self, folder: Optional[str], default: str) -> str:
        """The canonical form of a folder the app names, or of ``default`` (the upload
        folder's path) when it names none: a path, a key prefix."""

    @abstractmethod
    def stage(self, folder: str) -> Staged:
        """Somewhere to receive a file that will be published into ``folder``."""

    @abstractmethod
    def publish(
        self, source: Union[Bytes, Staged, HandOver], folder: str, name: str, size: int
    ) -> Stored:
        """Store ``source`` (``size`` bytes) in ``folder`` under ``name`` or the first free
        variant of it, never replacing anything; a source can be published more than once."""

    def save_as(self, source: Union[Staged, HandOver], path: str) -> bool:
        """Give ``source`` the local ``path`` (replacing it) without copying, if the store can."""
        return False

    def unpublish(self, source: HandOver, stored: list[Stored]) -> None:  # noqa: B027  (optional)
        """Remove what was published from ``source`` (a hand-over that is given back)."""

    @abstractmethod
    def open(self, folder: str, name: str) -> IO[bytes]:
        """A stored file, to read. FileNotFoundError, on opening or at the latest on the
        first read, when ``folder`` holds no file ``name`` (on disk: nothing but a regular
        file, never through a symlink)."""

    @abstractmethod
    def url(
        self, folder: str, name: str, expires_in: int, content_type: str, disposition: str
    ) -> Optional[str]:
        """A URL where a browser reads the stored file for ``expires_in`` seconds, answered
        with these ``Content-Type`` and ``Content-Disposition``; None where the store has
        no such URL (the app sends the file itself). It does not check that the file exists."""

    @abstractmethod
    def delete(
        self, folder: str, name: str, version: Optional[str] = None, *, variants: bool = True
    ) -> bool:
        """Remove a stored file (with ``version``, only while it is still that
        :meth:`version`) and its variants (``variants=False`` for a file that has none, a
        pending one: no look for them); whether there was one to remove."""

    @abstractmethod
    def locate(self, location: str) -> tuple[str, str]:
        """The folder and name of a stored file's location (``SavedFile.location``)."""

    @abstractmethod
    def place(self, folder: str, name: str) -> Stored:
        """Where the file ``name`` of ``folder`` is (the inverse of :meth:`locate`)."""

    @abstractmethod
    def version(self, folder: str, name: str) -> Optional[str]:
        """What tells this stored file from another stored later under the same name; None
        if there is none."""

    @abstractmethod
    def label(self, folder: str, root: str) -> str:
        """``folder`` named relative to ``root`` (the app's upload folder, as :meth:`folder`
        names it): what a page may carry instead of a server path. ValueError for a folder
        the store cannot name that way."""

    @abstractmethod
    def unlabel(self, label: str, root: str) -> str:
        """The folder a :meth:`label` names, relative to ``root`` today."""

    @abstractmethod
    def listing(self, folder: str) -> list[tuple[str, int]]:
        """The files stored in ``folder`` itself, as (name, size), by name."""

    # Variants of a stored file (thumbnails), kept beside it ---------------------------------

    @abstractmethod
    def variant_folder(self, folder: str, name: str) -> str:
        """The folder of the variants of the file ``name`` of ``folder``: the store's own, which
        no listing of ``folder`` shows and no stored name reaches; read by :meth:`open` and
        :meth:`url` as any folder."""

    @abstractmethod
    def put_variant(self, folder: str, name: str, data: Bytes) -> None:
        """Keep ``data`` as ``name`` in ``folder`` (a :meth:`variant_folder`), whole or not at
        all: no reader ever finds a part of it. When another server kept it first, theirs stays."""

    @abstractmethod
    def kept_variants(self, folders: Iterable[str]) -> Iterator[tuple[str, str, str, int]]:
        """Every variant kept: its file's folder and name, the variant's own name and its
        size. On disk those of ``folders``; on S3 every one the store keeps (one listing)."""

    @abstractmethod
    def remove_variant(self, folder: str, name: str, variant: str) -> None:
        """Remove one variant of the file ``name`` of ``folder`` (gone already: nothing)."""

    @abstractmethod
    def delete_variants(self, folder: str, name: str) -> int:
        """Remove every variant of the file ``name`` of ``folder`` (:meth:`delete` does, after
        the file); how many went."""

    # Pending files: a form field's uploads, kept until the view claims them ---------------

    @abstractmethod
    def pending_folder(self, root: str, client: str) -> str:
        """The folder of ``client``'s pending files: under ``root`` (the chunk folder) on
        disk, a prefix of the store's own in a bucket; never a folder of stored files."""

    @abstractmethod
    def claim(
        self, folder: str, name: str, target: str, target_name: str, size: int
    ) -> Optional[Claim]:
        """Store the pending file ``name`` of ``folder`` in ``target`` under ``target_name`` or
        the first free variant, exactly once, whoever else claims it at the same time: None
        for every claim but the one that stored it (and when it is gone). A claim that fails
        midway is given up (the file is pending again) before its error is raised."""

    @abstractmethod
    def is_pending(self, folder: str, name: str) -> bool:
        """Whether the pending file ``name`` of ``folder`` is there and no claim holds it."""

    @abstractmethod
    def pending_files(self, folder: str) -> list[tuple[str, int, float]]:
        """The pending files of one client's ``folder``, as (name, size, time kept)."""

    @abstractmethod
    def clean_pending(
        self, root: str, expires: float, now: Optional[float] = None
    ) -> tuple[int, int]:
        """Remove pending files (of every client) older than ``expires``; (how many, bytes)."""

    def clean(self, folders: tuple[str, ...], expires: float) -> tuple[int, int]:
        """Remove what dead processes left while receiving; (how many, bytes freed)."""
        return 0, 0

    #: Whether files are kept in the local file system (folders to check at start-up).
    local = False


@dataclass
class CleanReport:
    partial_uploads: int = 0  #: unfinished uploads whose bytes were removed
    records: int = 0  #: records of ended uploads forgotten
    temporaries: int = 0  #: temporary files of dead processes removed
    pending_files: int = 0  #: a form field's files nobody claimed, removed
    variants: int = 0  #: variants of files gone or stored again since, removed
    freed: int = 0  #: bytes given back to the store

    def add(self, other: "CleanReport") -> None:
        fields = ("partial_uploads", "records", "temporaries", "pending_files", "variants")
        for name in (*fields, "freed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


#: A client's id (in its session) and an upload's id (Dropzone's ``dzuuid``), as stores use them.
CLIENT_NAME = re.compile(r"[0-9a-f]{32}")
UPLOAD_NAME = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: The states of an ended upload.
COMPLETE, REFUSED, EXPIRED = "complete", "refused", "expired"
#: Seconds at least that the record of an upload that ended otherwise than complete (expired,
#: cancelled, refused) is kept, each late chunk starting them again: a client may send the
#: chunks of an upload for long after the server ended it, and each must be refused (410),
#: never taken as the start of a new upload.
TOMBSTONE = 7 * 24 * 60 * 60


def record_lifetime(state: str, expires: float) -> float:
    """Seconds the record of an upload that ended in ``state`` is kept once idle, for an
    upload kept ``expires`` seconds while open."""
    return expires if state == COMPLETE else max(expires, TOMBSTONE)


class Partial(ABC):
    """One chunk request's view of its upload."""

    manifest: Manifest
    created: bool  #: this request started the upload
    state: Optional[str]  #: None while the upload is open, else COMPLETE, REFUSED or EXPIRED
    refusal: Optional[int]  #: the status it was refused with (413 or 415)

    @abstractmethod
    def write(self, data: bytes, offset: int) -> None:
        """Bytes of the chunk being received, at ``offset`` in the file."""

    @abstractmethod
    def mark_received(self, index: int) -> None:
        """Chunk ``index`` was received whole: keep it (a resent chunk replaces it)."""

    @abstractmethod
    def held(self) -> list[int]:
        """The indices of the chunks kept."""

    @abstractmethod
    def release(self) -> None:
        """The chunk is written; what follows (hand-over, refusal) may begin."""

    @abstractmethod
    def hand_over(self) -> Optional[HandOver]:
        """The finished file, for exactly one request, once every chunk is kept."""

    @abstractmethod
    def refuse(self, status: int = 415) -> None:
        """Refuse the upload: its later chunks are refused too, its bytes dropped."""

    @abstractmethod
    def discard_if_unused(self) -> None:
        """Remove the upload this request started if no chunk of it was kept."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def closed(self) -> bool: ...


class PartialStore(ABC):
    """Where the chunks of unfinished uploads wait, per client."""

    @abstractmethod
    def open(
        self,
        client: str,
        chunk: Chunk,
        quota: Optional[int] = None,
        destination: Optional[tuple[str, str]] = None,
        expires: Optional[float] = None,
        unfinished: Optional[int] = None,
    ) -> Partial:
        """The upload ``chunk`` belongs to, started (once, whoever is first) by this chunk
        if it is the first. ``destination`` is the folder and name the file will likely be
        stored under, for a store that can assemble it there; ``expires``, the seconds it
        is kept once idle (the starting zone's ``CHUNK_EXPIRES``), recorded with it. Raises
        QuotaExceeded (past ``quota`` bytes or ``unfinished`` uploads of the client, counted
        under its start lock: :func:`check_room`), BadChunk for a chunk that does not match
        its upload, and StoreBusy."""

    @abstractmethod
    def held_chunks(self, client: str, upload: str) -> Optional[tuple[Manifest, list[int]]]:
        """What the client's unfinished upload ``upload`` declared and the chunks it holds,
        for a browser resuming it; None if there is no such open upload."""

    @abstractmethod
    def cancel(self, client: str, upload: str) -> bool:
        """End the client's unfinished upload ``upload`` (its ``dzuuid``): its bytes go and its
        later chunks are answered as expired. Whether there was one to end."""

    @abstractmethod
    def unfinished(self, client: str) -> tuple[int, int]:
        """The declared bytes and the number of the client's unfinished uploads."""

    def unfinished_bytes(self, client: str) -> int:
        """Declared size of the client's unfinished uploads."""
        return self.unfinished(client)[0]

    @abstractmethod
    def clean(self, expires: float, now: Optional[float] = None) -> CleanReport:
        """Drop uploads idle for longer than they are kept (the expiry each recorded, else
        ``expires``), and records of ended ones once idle for their :func:`record_lifetime`."""

    @abstractmethod
    def clean_due(self, interval: float) -> bool:
        """Whether nobody cleaned in the last ``interval`` seconds (then the caller does)."""


class UploadGone(Exception):
    """A direct upload (or the file it made) is not there: completed, aborted, expired."""


class PartsRejected(Exception):
    """The bucket would not complete a direct upload from the parts named."""


class DirectStore(ABC):
    """Direct uploads (``DROPZONE_S3_DIRECT``): files a browser sends straight to the bucket in
    parts through presigned URLs, which the app starts, judges and completes. ``files`` is
    the file store they end in. An upload is named by its :class:`~.._rules.direct.Ticket`:
    the names :meth:`start` gave it and what was declared. Each method is a step of the
    protocol (:mod:`flask_dropzone._protocol.direct_uploads`); what S3 answers reaches it only
    as this module's errors (StoreUnavailable for anything the store cannot use)."""

    files: FileStore

    @property
    @abstractmethod
    def bucket(self) -> str:
        """The bucket's name, for messages."""

    @abstractmethod
    def start(
        self,
        client: str,
        size: int,
        quota: Optional[int],
        place: Optional[tuple[str, str]],
        unfinished: Optional[int] = None,
    ) -> tuple[str, str, Optional[str], str]:
        """Create the upload, holding the first free variant of ``place`` (folder, name) if
        given: its base (a private prefix bound to ``client``), the key it completes at, the
        name held (or None) and its id. QuotaExceeded past the client's ``quota`` bytes or
        ``unfinished`` uploads; StoreBusy when its start lock stays taken."""

    @abstractmethod
    def part_urls(self, ticket: Ticket, expires: int) -> list[str]:
        """A URL per part, each for one PUT of exactly its length, for ``expires`` seconds."""

    @abstractmethod
    def parts(self, ticket: Ticket) -> list[dict[str, Any]]:
        """Every part the bucket holds (``PartNumber``, ``Size``, ``ETag``); UploadGone when
        the upload is no longer open."""

    @abstractmethod
    def claim(self, ticket: Ticket) -> Optional[str]:
        """Take the upload's completion for one request (its claim's tag), or None."""

    @abstractmethod
    def release(self, ticket: Ticket, claim: str) -> None:
        """Give the completion back, for a request sent again."""

    @abstractmethod
    def ended(self, ticket: Ticket) -> bool:
        """Whether the upload ended (stored, refused, aborted)."""

    @abstractmethod
    def take_first_part(self, ticket: Ticket, length: int) -> tuple[bytes, int]:
        """Copy the first part where no browser can change it (what is judged is what is
        stored): its first ``length`` bytes and its size; UploadGone when it is missing."""

    @abstractmethod
    def completed_head(self, ticket: Ticket, length: int) -> tuple[bytes, int]:
        """The first ``length`` bytes and the size of the file the upload completed (by a
        request that failed after); UploadGone when the file there is not the upload's."""

    @abstractmethod
    def join(self, ticket: Ticket, parts: list[dict[str, Any]]) -> int:
        """Complete the upload from the copy of its first part and ``parts`` (2 and on): the
        size of the file made. PartsRejected, or NameLost when the name held is no longer
        the upload's."""

    @abstractmethod
    def reader(self, ticket: Ticket) -> IO[bytes]:
        """The completed file, to read (a naming function reads the whole file)."""

    @abstractmethod
    def rewrite(self, ticket: Ticket, pieces: Iterable[bytes]) -> int:
        """Replace the completed file with the bytes of ``pieces`` (it stripped of its
        metadata, read from :meth:`reader` as they are written), holding a part at most:
        the size written. NameLost when the file there is no longer the one completed;
        an error of ``pieces`` leaves the completed file as it was. Done once: a file
        rewritten already is left as it is (its size), and :meth:`completed_head` still
        gives the size it was completed with, so that a completion sent again finds it."""

    @abstractmethod
    def publish(self, ticket: Ticket, name: Optional[str] = None) -> Stored:
        """Where the completed file is stored: at the name held for it, or copied to ``name``
        (a function of the file named it) or its first free variant in the ticket's folder."""

    @abstractmethod
    def finish(self, ticket: Ticket, claim: str) -> bool:
        """The file is stored: end the upload (if ``claim`` still holds) and remove what is
        left of it but the file; whether it was this call that ended it."""

    @abstractmethod
    def discard(self, ticket: Ticket, claim: Optional[str] = None, own_file: bool = False) -> None:
        """The upload is refused or cancelled: abort it and end it (if ``claim``, None when
        none was made, still holds); all of it goes, the name held too (with ``own_file``,
        the file it completed there), never a file stored there by another."""

    @abstractmethod
    def clean(self, expires: float, now: Optional[float] = None) -> tuple[int, int]:
        """Abort uploads started longer than ``expires`` ago; (aborted, bytes freed)."""

    @abstractmethod
    def put_cors(self, rule: dict[str, Any]) -> None:
        """Make ``rule`` the bucket's CORS configuration."""

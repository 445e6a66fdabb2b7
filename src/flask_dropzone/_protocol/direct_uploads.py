"""Direct uploads' steps (a zone's ``s3_direct``), between the endpoints that parse and
answer (:mod:`flask_dropzone._endpoints.direct`) and the store that holds the parts
(:class:`~flask_dropzone._stores.DirectStore`): an upload is started once judged by its
zone, and completed (:class:`DirectCompletion`) once judged again, by its parts and its
first bytes, with that zone's settings of the day."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, TypeVar

from flask import Flask
from werkzeug.datastructures import Headers

from .. import signals
from .._rules import direct, storage_settings, validation
from .._rules.direct import Ticket
from .._rules.filenames import safe_filename, stored_name
from .._rules.settings import Options
from .._rules.sniffing import HEAD_SIZE
from .._rules.zonerules import Zone, ZoneGone
from .._stores import (
    DirectStore,
    NameLost,
    PartsRejected,
    QuotaExceeded,
    Stored,
    StoreUnavailable,
    UploadGone,
)
from ..errors import BadUpload, FileTooLarge, NameTaken, UploadForbidden, UploadRefused
from . import deletion
from .clients import client_id
from .deletion import NotYours
from .folders import upload_folder
from .sweep import clean_later
from .uploads import SavedFile, Upload

log = logging.getLogger("flask_dropzone")

NO_UPLOAD = "There is no such upload."
T = TypeVar("T")
#: Parts as the store lists them and completes the upload with (``PartNumber``, ``ETag``, ...).
Parts = list[dict[str, Any]]


def folder_for(app: Flask, zone: Zone, options: Options, filename: str) -> str:
    """Where the zone's direct uploads go today: the app's choice (``direct_folder``), else
    the zone's ``upload_folder`` (a key prefix), else the store's prefix."""
    folder = None
    choose = app.extensions["dropzone"]._folder_for
    if choose is not None:
        folder = choose(zone.name, filename)
        if folder is False:
            raise UploadForbidden("You cannot upload files here.")
        if folder is not None and not isinstance(folder, str):
            raise TypeError(f"direct_folder must return a folder (str), None or False: {folder!r}")
    return upload_folder(options, folder)


def start_upload(
    app: Flask, store: DirectStore, zone: Zone, name: str, size: int
) -> tuple[Ticket, list[str]]:
    """Judge the file declared before anything is created, then start its upload (the
    file's name held in its folder, unless a function of the file names it): its ticket,
    and a presigned URL for each part."""
    options, safe = zone.options(app.config), safe_filename(name)
    try:
        _check_start(options, safe, size)
        client = client_id()
        folder = folder_for(app, zone, options, name)
        quota = None if options.chunk_quota is None else int(options.chunk_quota * validation.MIB)
        policy = options.stored_name
        place = (folder, stored_name(name, policy)) if policy in ("original", "random") else None
        try:
            base, key, held, upload_id = store.start(
                client, size, quota, place, options.unfinished_uploads
            )
        except QuotaExceeded:
            raise FileTooLarge(
                "Too many unfinished uploads; finish or cancel some first."
            ) from None
    except UploadRefused as refused:
        refused.about(name)
        raise
    ticket = Ticket(
        base, key, held or "", upload_id, client, name, safe, size, options.chunk_size, folder, zone
    )
    try:
        urls = store.part_urls(ticket, direct.URL_EXPIRES)
    except BaseException:
        _forget(store, ticket)
        raise
    clean_later(options)
    log.info("direct upload %s started for %r (%d bytes) at %s", base, name, size, key)
    return ticket, urls


def _check_start(options: Options, safe_name: str, size: int) -> None:
    """The checks of any upload, and the zone's chunk size as S3 parts of this file."""
    part_size, most_parts, mib = options.chunk_size, storage_settings.S3_MAX_PARTS, validation.MIB
    validation.check_name(safe_name, options)
    validation.check_size(size, options)
    if not storage_settings.S3_MIN_PART <= part_size <= storage_settings.S3_MAX_PART:
        raise BadUpload("This zone's chunk size cannot be an S3 part (5 MiB to 5 GiB).")
    if direct.part_count(size, part_size) > most_parts:
        raise FileTooLarge(
            f"The file is too large to upload here: it would take more than {most_parts:,} "
            f"parts of {part_size / mib:g} MiB (at most {most_parts * part_size / mib:,.0f} MiB)."
        )


def _forget(store: DirectStore, ticket: Ticket) -> None:
    """Best effort: abort an upload that its start could not finish (else the sweep does)."""
    try:
        store.discard(ticket)
    except Exception as error:  # left for `flask dropzone clean`
        log.warning("could not abort direct upload %s: %s", ticket.key, error)


def renew_urls(store: DirectStore, ticket: Ticket, expires: int) -> list[str]:
    """Fresh part URLs, valid ``expires`` seconds; none for an upload that ended (else its
    token would keep writing first parts into the bucket until it expires)."""
    if expires < 1 or store.ended(ticket):
        raise NotYours(NO_UPLOAD)
    return store.part_urls(ticket, expires)


def held_parts(store: DirectStore, ticket: Ticket) -> list[int]:
    """The parts the bucket holds with their exact length, for a browser resuming."""
    return direct.held_parts(store.parts(ticket), ticket.size, ticket.part_size)


def abort_upload(store: DirectStore, ticket: Ticket) -> None:
    """A person cancelled the upload: its parts go now, not at the sweep; unless a request
    completes it, or it ended (a file completed there stays)."""
    claim = store.claim(ticket)
    if claim is not None:
        store.discard(ticket, claim)
    log.info("direct upload %s aborted by its client", ticket.base)


class DirectCompletion:
    """The completion of one upload: every part there with its size, the file judged by its
    first bytes, then completed where it is stored; once. The request that claims it does
    it all (another, at the same time or after, answers 404), and reports the file stored
    if it still holds its claim when it ends the upload. A step that fails gives the claim
    back, the upload as it was, for the request sent again; a refusal ends the upload."""

    def __init__(self, app: Flask, store: DirectStore, ticket: Ticket) -> None:
        self.app, self.store, self.ticket = app, store, ticket
        self.claim = ""

    def run(self) -> SavedFile:
        """The file stored, once the signal and the delete tokens went out."""
        claim = self.store.claim(self.ticket)
        if claim is None:
            raise NotYours(NO_UPLOAD)  # another request completes it, or it ended
        self.claim = claim
        options = self._refusing(self._today)
        with self._released_on_failure():
            parts = self._parts()
            head, size = self._first_bytes(parts)
        detected = self._refusing(lambda: self._judge(options, parts, head, size))
        if parts is not None:
            self._join(parts)
        size = self._strip(options, head) if options.strip_metadata else self.ticket.size
        with self._released_on_failure():
            name = None if self.ticket.name else self._name(options, head, detected)
            stored = self.store.publish(self.ticket, name)
        self._finish()
        return self._announce(options, stored, detected, size)

    def _strip(self, options: Options, head: bytes) -> int:
        """The completed file rewritten without its metadata, through this server (one read
        and one write of it, a part held at a time): its size. A damaged image, or a file
        no longer the upload's, ends the upload, its file gone."""
        upload = self._upload(options, head)
        upload.strip = True
        refusal: Optional[UploadRefused] = None
        try:
            if not upload.strips:
                return self.ticket.size
            with self._released_on_failure():
                try:
                    return self.store.rewrite(self.ticket, upload.stripped())
                except UploadRefused as refused:
                    refusal = refused
                except NameLost:
                    refusal = NameTaken()
        finally:
            upload.close()
        assert refusal is not None
        self._end(refusal, own_file=not isinstance(refusal, NameTaken))
        raise refusal.about(self.ticket.filename)

    def _today(self) -> Options:
        """The settings the upload is judged by now: its zone's of today, which must still
        take it, in the same folder (a zone removed, tightened or moved since refuses it)."""
        ticket = self.ticket
        try:
            options = ticket.zone.options(self.app.config)
        except ZoneGone:
            raise direct.ZoneChanged(
                "This zone no longer takes uploads; add the file again."
            ) from None
        try:
            validation.check_name(ticket.safe_name, options)
            validation.check_size(ticket.size, options)
        except UploadRefused as refused:
            raise direct.ZoneChanged(refused.description or "") from None
        if folder_for(self.app, ticket.zone, options, ticket.filename) != ticket.folder:
            raise direct.ZoneChanged(
                "This zone's folder changed while the file was uploading; add the file again."
            )
        return options

    def _parts(self) -> Optional[Parts]:
        """The parts 2 and on to complete the upload with, when every part is there with its
        exact length (409 if not); None when it was completed (by a request that failed after)."""
        try:
            listed = self.store.parts(self.ticket)
        except UploadGone:
            return None
        return direct.check_parts(listed, self.ticket.size, self.ticket.part_size)[1:]

    def _first_bytes(self, parts: Optional[Parts]) -> tuple[bytes, int]:
        """The bytes the file is judged by, and the size of what they were read from: the
        server's own copy of the first part (taken now: the browser can no longer change what
        is judged), or the file completed (this upload's, not another's stored there since)."""
        if parts is None:
            return self.store.completed_head(self.ticket, HEAD_SIZE)
        length = direct.part_length(1, self.ticket.size, self.ticket.part_size)
        try:
            head, size = self.store.take_first_part(self.ticket, HEAD_SIZE)
        except UploadGone:
            raise direct.PartsProblem("Part 1 is missing.") from None
        if size != length:
            raise direct.PartsProblem(f"Part 1 has {size} bytes instead of {length}.")
        return head, size

    def _judge(self, options: Options, parts: Optional[Parts], head: bytes, size: int) -> str:
        """The file's type, by its first bytes; a completed file not of the size declared is
        not this upload's file (the upload was lost)."""
        if parts is None and size != self.ticket.size:
            raise NotYours(NO_UPLOAD)
        return validation.check_type(self.ticket.safe_name, head, options)

    def _join(self, parts: Parts) -> None:
        """Complete the multipart upload, its part 1 the copy judged (409 if S3 will not join
        the parts); a name taken meanwhile, or parts that made another size, end it."""
        with self._released_on_failure():
            try:
                size: Optional[int] = self.store.join(self.ticket, parts)
            except PartsRejected as error:
                raise direct.PartsProblem(
                    f"The parts could not be joined ({error}); send them again."
                ) from None
            except NameLost:
                size = None
        if size != self.ticket.size:
            problem = (
                NameTaken()
                if size is None
                else direct.PartsProblem(
                    "The parts did not make the file declared; add the file again."
                )
            )
            self._end(problem, own_file=size is not None)
            raise problem.about(self.ticket.filename)

    def _name(self, options: Options, head: bytes, detected: str) -> str:
        """The name a function of the file (``DROPZONE_STORED_NAME``) gives it: the file is an
        :class:`~.uploads.Upload` reading from the bucket, as ``save()`` gives it."""
        upload = self._upload(options, head)
        upload.detected_type = detected
        try:
            return stored_name(self.ticket.filename, options.stored_name, upload)
        finally:
            upload.close()

    def _upload(self, options: Options, head: bytes) -> Upload:
        """The completed file, as an :class:`~.uploads.Upload` reading from the bucket."""
        ticket = self.ticket
        return Upload(
            self.store.reader(ticket),
            ticket.filename,
            options.input_name,
            Headers(),
            ticket.size,
            head,
            store=self.store.files,
        )

    def _finish(self) -> None:
        """End the upload, the file stored; NotYours if this request outlived its lease (the
        request that took the upload over reports it)."""
        try:
            ended = self.store.finish(self.ticket, self.claim)
        except StoreUnavailable as error:  # stored: what is left is the sweep's
            log.warning("could not tidy direct upload %s: %s", self.ticket.base, error)
            ended = True
        if not ended:
            log.warning("direct upload %s was taken over while it was completed", self.ticket.base)
            raise NotYours(NO_UPLOAD)

    def _announce(self, options: Options, stored: Stored, detected: str, size: int) -> SavedFile:
        """Tell the app (``file_stored``) and the page (delete tokens) about the file."""
        ticket = self.ticket
        saved = SavedFile(
            filename=ticket.filename,
            stored_name=stored.name,
            path=stored.path,
            size=size,
            mimetype=detected,
            location=stored.location,
            zone=ticket.zone.name,
        )
        signals.file_stored.send(self.app, saved=saved)
        if options.delete_on_remove:
            deletion.send_delete_tokens(self.app, [saved], ticket.folder, options, ticket.zone)
        log.info("direct upload %s stored as %r", ticket.base, saved.location)
        return saved

    def _refusing(self, step: Callable[[], T]) -> T:
        """A step that may refuse the file: a refusal ends the upload (nothing of it is left)."""
        try:
            return step()
        except UploadRefused as refused:
            self._end(refused)
            refused.about(self.ticket.filename)
            raise

    def _end(self, refused: UploadRefused, own_file: bool = False) -> None:
        """End a refused upload: its parts, the name held (with ``own_file``, the file this
        request completed there; never what took the name meanwhile) and its first part go."""
        try:
            self.store.discard(self.ticket, self.claim, own_file=own_file)
        except StoreUnavailable as error:  # refused all the same; the sweep removes the rest
            log.warning(
                "could not remove refused direct upload %s (%s): %s",
                self.ticket.base,
                refused,
                error,
            )

    @contextmanager
    def _released_on_failure(self) -> Iterator[None]:
        """A step of the completion: if it fails, the claim is given back and the upload stays
        as it is, for the request sent again; a file no longer there is 404."""
        try:
            yield
        except BaseException as error:
            try:
                self.store.release(self.ticket, self.claim)
            except Exception as failure:  # the claim's lease runs out
                log.warning("could not release direct upload %s: %s", self.ticket.base, failure)
            if isinstance(error, UploadGone):
                raise NotYours(NO_UPLOAD) from None
            if isinstance(error, UploadRefused):
                error.about(self.ticket.filename)
            raise

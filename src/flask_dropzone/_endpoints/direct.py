"""The direct-upload endpoints (a zone's ``s3_direct``): the browser sends a file's
bytes straight to the bucket, as parts through presigned URLs, and asks these
endpoints to start, refresh, complete, abort and resume its upload. No file byte
reaches the app; the server judges the file before (name, declared size, quota)
and after (every part with its exact size, then the content's first bytes), and
completes the upload, where the file is stored, only once it is judged.

Each takes a JSON body (``status``: a query) and answers JSON, or a refusal in
plain text as every upload does. A file is judged by its zone (the ``X-Dropzone-Zone``
header its page sent, :mod:`~flask_dropzone._rules.zonerules`) with that zone's settings of the day: a request
without valid rules signed for direct uploads (a view's, a zone's that no longer uploads
direct) starts nothing. The token ``start`` returns names the zone, so
that the upload is completed in the zone it started in, judged again by that zone's
settings then, and only the session that started an upload may use it (another gets
404, as if there were none).
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from functools import wraps
from typing import Any, Callable, Iterator, Optional

from flask import Blueprint, Flask, Response, current_app, g, request, session
from werkzeug.datastructures import Headers

from .. import _stores as stores
from .. import signals
from .._protocol import deletion
from .._protocol.clients import CLIENT_KEY, client_id
from .._protocol.deletion import NotYours
from .._protocol.folders import upload_folder
from .._protocol.reporting import STORE_ERRORS, report, store_error
from .._protocol.sweep import clean_later
from .._protocol.uploads import SavedFile, Upload, answer
from .._rules import direct, storage_settings, validation, zonerules
from .._rules.direct import Ticket
from .._rules.filenames import safe_filename, stored_name
from .._rules.parts import part_lengths
from .._rules.settings import Options, resolve
from .._rules.sniffing import HEAD_SIZE
from .._rules.zonerules import Zone, ZoneGone
from .._stores import (
    DirectStore,
    NameLost,
    PartsRejected,
    QuotaExceeded,
    StoreBusy,
    Stored,
    StoreUnavailable,
    UploadGone,
)
from ..errors import BadUpload, FileTooLarge, NameTaken, UploadBusy, UploadForbidden, UploadRefused

log = logging.getLogger("flask_dropzone")

#: Largest JSON body the endpoints read.
JSON_LIMIT = 64 * 1024
_NO_UPLOAD = "There is no such upload."


def register(blueprint: Blueprint) -> None:
    """Add the endpoints to the extension's blueprint (only with S3 storage), named as
    :data:`.DIRECT_ENDPOINTS` lists them."""
    blueprint.add_url_rule("/dropzone/direct/start", "direct_start", start, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/urls", "direct_urls", urls, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/complete", "direct_complete", complete, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/abort", "direct_abort", abort, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/status", "direct_status", status, methods=["GET"])


def _endpoint(view: Callable[[], Response]) -> Callable[[], Response]:
    """Refusals about a file are reported (``upload_refused``, a log line) like any upload's;
    what S3 answered that the store cannot use is a 503, never a 500."""

    @wraps(view)
    def answer() -> Response:
        try:
            try:
                return view()
            except STORE_ERRORS as error:
                raise store_error(error) from error
            except StoreBusy:
                raise UploadBusy("The server is busy with this upload; try again.") from None
            except Exception as error:
                if not _from_s3(error):
                    raise
                raise store_error(StoreUnavailable(str(error))) from error
        except UploadRefused as refused:
            if 400 <= refused.code < 500 and not isinstance(refused, NotYours):
                report(refused, g.get("_dropzone_direct_zone"))
            raise

    return answer


def _from_s3(error: Exception) -> bool:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - direct uploads need boto3
        return False
    return isinstance(error, (BotoCoreError, ClientError))


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise BadUpload("The request must be JSON (Content-Type: application/json).")
    length = request.content_length
    if length is None or length > JSON_LIMIT:
        raise BadUpload(f"The request must be JSON of at most {JSON_LIMIT} bytes, with its length.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadUpload("The request is not a JSON object.")
    return body


def _store(app: Flask) -> DirectStore:
    found = stores.of(app).direct
    assert found is not None, "the direct endpoints exist only with S3 storage"
    return found


def _max_age(app: Flask) -> float:
    """How long an upload's token holds: as long as the sweep keeps the upload."""
    return resolve(app.config).chunk_expires


def _zone(app: Flask) -> Zone:
    """The zone of the request's signed rules: no view runs here, so without valid rules of
    this client's page signed for direct uploads (expired, of a zone removed or no longer
    direct since, a view's, or none) nothing is taken."""
    rules, client = request.headers.get(zonerules.HEADER), session.get(CLIENT_KEY)
    zone = zonerules.load(app, rules, client, zonerules.DIRECT)
    if zone is None:
        raise BadUpload(zonerules.EXPIRED)
    g._dropzone_direct_zone = zone.name
    return zone


def _folder(app: Flask, zone: Zone, options: Options, filename: str) -> str:
    """Where the zone's direct uploads go today: the app's choice (``direct_folder``), else
    the zone's ``upload_folder`` (a key prefix), else the store's prefix."""
    folder = None
    choose = app.extensions["dropzone"].folder_for
    if choose is not None:
        folder = choose(zone.name, filename)
        if folder is False:
            raise UploadForbidden("You cannot upload files here.")
        if folder is not None and not isinstance(folder, str):
            raise TypeError(f"direct_folder must return a folder (str), None or False: {folder!r}")
    return upload_folder(options, folder)


def _ticket(app: Flask, token: str, zone: Optional[Zone] = None) -> tuple[Ticket, float]:
    """The upload a token names, if this session started it (and in ``zone``, the zone of
    the page asking); else 404."""
    found = direct.read_token(app, token, _max_age(app))
    client = session.get(CLIENT_KEY)
    if found is None or not isinstance(client, str) or found[0].client != client:
        raise NotYours(_NO_UPLOAD)
    if zone is not None and found[0].zone != zone:
        raise NotYours(_NO_UPLOAD)  # another zone's upload: it is not resumed, nor completed, here
    return found


def _today(app: Flask, ticket: Ticket) -> Options:
    """The settings the upload is judged by now: its zone's of today, which must still take
    it, in the same folder (a zone removed, tightened or moved since refuses it)."""
    try:
        options = ticket.zone.options(app.config)
    except ZoneGone:
        raise direct.ZoneChanged("This zone no longer takes uploads; add the file again.") from None
    try:
        validation.check_name(ticket.safe_name, options)
        validation.check_size(ticket.size, options)
    except UploadRefused as refused:
        raise direct.ZoneChanged(refused.description or "") from None
    if _folder(app, ticket.zone, options, ticket.filename) != ticket.folder:
        raise direct.ZoneChanged("This zone's folder changed while the file was uploading; add the file again.")
    return options


def _urls(store: DirectStore, ticket: Ticket, expires: int) -> list[str]:
    """A URL per part: the first part to its own object, the others into the multipart upload."""
    first, *others = part_lengths(ticket.size, ticket.part_size)
    return [store.presign_first(ticket.base, first, expires)] + [
        store.presign(ticket.key, ticket.upload_id, number, length, expires)
        for number, length in enumerate(others, 2)
    ]


# The endpoints -------------------------------------------------------------------------


@_endpoint
def start() -> Response:
    """``{"name", "size", "type"}``: judged before anything is created, then the file's
    name held in its folder (unless a function of the file names it), the upload's token
    and a presigned URL for each part."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store = _store(app)
    name, size, _ = direct.parse_start(_body())  # the browser's type: the server judges by name and content
    zone = _zone(app)
    options = zone.options(app.config)
    safe = safe_filename(name)
    part_size = options.chunk_size
    try:
        validation.check_name(safe, options)
        validation.check_size(size, options)
        if not storage_settings.S3_MIN_PART <= part_size <= storage_settings.S3_MAX_PART:
            raise BadUpload("This zone's chunk size cannot be an S3 part (5 MiB to 5 GiB).")
        if direct.part_count(size, part_size) > storage_settings.S3_MAX_PARTS:
            most = storage_settings.S3_MAX_PARTS * part_size
            raise FileTooLarge(
                f"The file is too large to upload here: it would take more than {storage_settings.S3_MAX_PARTS:,} "
                f"parts of {part_size / validation.MIB:g} MiB (at most {most / validation.MIB:,.0f} MiB)."
            )
        client = client_id()
        folder = _folder(app, zone, options, name)
        quota = None if options.chunk_quota is None else int(options.chunk_quota * validation.MIB)
        base = store.new_base(client)
        policy = options.stored_name
        place = (folder, stored_name(name, policy)) if policy in ("original", "random") else None
        try:
            key, held, upload_id = store.start(base, client, size, quota, place, options.unfinished_uploads)
        except QuotaExceeded:
            raise FileTooLarge("Too many unfinished uploads; finish or cancel some first.") from None
    except UploadRefused as refused:
        refused.about(name)
        raise
    ticket = Ticket(base, key, held or "", upload_id, client, name, safe, size, part_size, folder, zone)
    try:
        links = _urls(store, ticket, direct.URL_EXPIRES)
    except BaseException:
        _forget(store, ticket)
        raise
    clean_later(options)
    log.info("direct upload %s started for %r (%d bytes) at %s", base, name, size, key)
    return _json({
        "upload": direct.make_token(app, ticket),
        "partSize": part_size,
        "parts": ticket.parts,
        "urls": links,
        "expires": direct.URL_EXPIRES,
    })


def _forget(store: DirectStore, ticket: Ticket) -> None:
    """Best effort: abort an upload that its start could not finish (else the sweep does)."""
    try:
        store.abort(ticket.key, ticket.upload_id)
        store.end(ticket.base, ticket.client, ticket.size, discard=ticket.key)
    except Exception as error:  # left for `flask dropzone clean`
        log.warning("could not abort direct upload %s: %s", ticket.key, error)


@_endpoint
def urls() -> Response:
    """``{"upload"}``: fresh part URLs, for an upload that outlasts them; none for one that
    ended (else its token would keep writing first parts into the bucket until it expires)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ticket, made = _ticket(app, direct.parse_token(_body()), _zone(app))
    expires = direct.url_expiry(made, _max_age(app))
    store = _store(app)
    if expires < 1 or store.ended(ticket.base):
        raise NotYours(_NO_UPLOAD)
    return _json({"urls": _urls(store, ticket, expires), "expires": expires})


@_endpoint
def status() -> Response:
    """``?upload=<token>``: the parts the bucket holds, for a browser resuming the upload."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ticket, _ = _ticket(app, request.args.get("upload", ""), _zone(app))
    try:
        listed = _store(app).list_parts(ticket.key, ticket.upload_id, ticket.base)
    except UploadGone:
        raise NotYours(_NO_UPLOAD) from None
    return _json({
        "held": direct.held_parts(listed, ticket.size, ticket.part_size),
        "parts": ticket.parts,
        "partSize": ticket.part_size,
        "size": ticket.size,
    })


@_endpoint
def abort() -> Response:
    """``{"upload"}``: a person cancelled the upload; its parts go now, not at the sweep."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ticket, _ = _ticket(app, direct.parse_token(_body()))
    store = _store(app)
    claim = store.claim(ticket.base, ticket.size)
    if claim is not None:  # not being completed, nor ended: it all goes (a file completed there stays)
        store.abort(ticket.key, ticket.upload_id)
        store.end(ticket.base, ticket.client, ticket.size, discard=ticket.key, claim=claim)
    log.info("direct upload %s aborted by its client", ticket.base)
    return Response(status=204, headers={"Cache-Control": "no-store"})


@_endpoint
def complete() -> Response:
    """``{"upload"}``: every part there with its size, the file judged by its first bytes,
    then the multipart upload completed where the file is stored; once. The request that
    claims the upload does it all (another, at the same time or after, answers 404), and
    reports the file stored if it still holds its claim when it ends the upload."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ticket, _ = _ticket(app, direct.parse_token(_body()), _zone(app))
    store = _store(app)
    claim = store.claim(ticket.base, ticket.size)
    if claim is None:
        raise NotYours(_NO_UPLOAD)  # another request completes it, or it ended
    try:
        options = _today(app, ticket)
    except UploadRefused as refused:
        _end(store, ticket, claim, refused)
        refused.about(ticket.filename)
        raise
    with _released_on_failure(store, ticket, claim):
        parts = _parts(store, ticket)
        head, size = _first_bytes(store, ticket, parts)
    try:
        if parts is None and size != ticket.size:  # not the file: the upload was lost
            raise NotYours(_NO_UPLOAD)
        detected = validation.check_type(ticket.safe_name, head, options)
    except UploadRefused as refused:
        _end(store, ticket, claim, refused)  # the parts, the name held: nothing of it is left
        refused.about(ticket.filename)
        raise
    if parts is not None:
        with _released_on_failure(store, ticket, claim):
            joined = _join(store, ticket, parts)
            size = (store.size(ticket.key) or 0) if joined else 0
        if not joined or size != ticket.size:  # the name was taken, or other parts were joined
            problem = NameTaken() if not joined else direct.PartsProblem(
                "The parts did not make the file declared; add the file again.")
            _end(store, ticket, claim, problem, own_file=joined)
            raise problem.about(ticket.filename)
    with _released_on_failure(store, ticket, claim):
        stored = _stored(store, ticket, options, head, detected)
    try:
        ended = store.end(ticket.base, ticket.client, ticket.size, discard=None if ticket.name else ticket.key,
                          claim=claim)
    except StoreUnavailable as error:  # stored: what is left is the sweep's
        log.warning("could not tidy direct upload %s: %s", ticket.base, error)
        ended = True
    if not ended:  # this request outlived its lease: the one that took the upload over reports it
        log.warning("direct upload %s was taken over while it was completed", ticket.base)
        raise NotYours(_NO_UPLOAD)
    saved = SavedFile(
        filename=ticket.filename,
        stored_name=stored.name,
        path=stored.path,
        size=ticket.size,
        mimetype=detected,
        location=stored.location,
        zone=ticket.zone.name,
    )
    signals.file_stored.send(app, saved=saved)
    if options.delete_on_remove:
        deletion.send_delete_tokens(app, [saved], ticket.folder, options, ticket.zone)
    log.info("direct upload %s stored as %r", ticket.base, saved.location)
    return _json(answer([saved]))


@contextmanager
def _released_on_failure(store: DirectStore, ticket: Ticket, claim: str) -> Iterator[None]:
    """A step of the completion: if it fails, the claim is given back and the upload stays
    as it is, for the request sent again; a file no longer there is 404."""
    try:
        yield
    except BaseException as error:
        try:
            store.release(ticket.base, claim)
        except Exception as failure:  # the claim's lease runs out
            log.warning("could not release direct upload %s: %s", ticket.base, failure)
        if isinstance(error, UploadGone):
            raise NotYours(_NO_UPLOAD) from None
        if isinstance(error, UploadRefused):
            error.about(ticket.filename)
        raise


def _end(store: DirectStore, ticket: Ticket, claim: str, refused: UploadRefused, own_file: bool = False) -> None:
    """End a refused upload: its parts, the name held (with ``own_file``, the file this
    request completed there; never what took the name meanwhile) and its first part go."""
    try:
        store.abort(ticket.key, ticket.upload_id)
        store.end(ticket.base, ticket.client, ticket.size, discard=ticket.key, claim=claim, own_file=own_file)
    except StoreUnavailable as error:  # refused all the same; the sweep removes the rest
        log.warning("could not remove refused direct upload %s (%s): %s", ticket.base, refused, error)


def _parts(store: DirectStore, ticket: Ticket) -> Optional[list[dict[str, Any]]]:
    """The parts 2 and on to complete the upload with, when every part is there with its
    exact length (409 if not); None when it was completed (by a request that failed after)."""
    try:
        listed = store.list_parts(ticket.key, ticket.upload_id, ticket.base)
    except UploadGone:
        return None
    return direct.check_parts(listed, ticket.size, ticket.part_size)[1:]


def _first_bytes(store: DirectStore, ticket: Ticket, parts: Optional[list[dict[str, Any]]]) -> tuple[bytes, int]:
    """The bytes the file is judged by, and the size of what they were read from: the
    server's own copy of the first part (taken now: the browser can no longer change what
    is judged), or the file completed (this upload's, not another's stored there since)."""
    if parts is None:
        if not store.completed(ticket.key, ticket.base):
            raise UploadGone(ticket.key)
        return store.read_head(ticket.key, ticket.size, HEAD_SIZE)
    length = direct.part_length(1, ticket.size, ticket.part_size)
    try:
        store.take_first(ticket.base)
        head, size = store.read_head(ticket.base + ".first", length, HEAD_SIZE)
    except UploadGone:
        raise direct.PartsProblem("Part 1 is missing.") from None
    if size != length:
        raise direct.PartsProblem(f"Part 1 has {size} bytes instead of {length}.")
    return head, size


def _join(store: DirectStore, ticket: Ticket, parts: list[dict[str, Any]]) -> bool:
    """Complete the multipart upload, its part 1 the copy judged (409 if S3 will not join
    the parts); whether it was, False when the name held for it was taken meanwhile."""
    try:
        store.complete(ticket.key, ticket.upload_id, ticket.base, parts)
    except PartsRejected as error:
        raise direct.PartsProblem(f"The parts could not be joined ({error}); send them again.") from None
    except NameLost:
        return False
    return True


def _stored(store: DirectStore, ticket: Ticket, options: Options, head: bytes, detected: str) -> Stored:
    """Where the file is stored: where it was completed, under the name held for it; or,
    named by a function of the file, copied to that name."""
    if ticket.name:
        return Stored(ticket.name, location=ticket.key)
    name = _name(store, ticket, options, head, detected)
    return store.publish(ticket.key, ticket.folder, name, ticket.size)


def _name(store: DirectStore, ticket: Ticket, options: Options, head: bytes, detected: str) -> str:
    """The name a function of the file (``DROPZONE_STORED_NAME``) gives it: the file is an
    :class:`~.uploads.Upload` reading from the bucket, as ``save()`` gives it."""
    upload = Upload(
        store.reader(ticket.key),
        ticket.filename, options.input_name, Headers(), ticket.size, head, store=store.files,
    )
    upload.detected_type = detected
    try:
        return stored_name(ticket.filename, options.stored_name, upload)
    finally:
        upload.close()

"""The current request's uploads: parsed once, streamed to disk, checked, stored."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
import secrets
from typing import IO, Any, Callable, Mapping, Optional, Sequence, Union

from flask import Flask, Request, Response, after_this_request, current_app, g, request, session
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from . import (
    checks,
    chunks,
    deletion,
    formdata,
    serving,
    signals,
    signing,
    stores,
    validation,
    zonerules,
)
from .errors import (
    BadUpload,
    FileTooLarge,
    InsufficientStorage,
    SomeFilesRefused,
    StorageUnavailable,
    UploadRefused,
    plain_text,
)
from .filenames import stored_name
from .settings import Options, check_folders, resolve
from .stores import CleanReport, FileStore, PartialStore, StoreFull, StoreLimit, StoreUnavailable
from .uploads import ChunkSink, FileSink, SavedFile, Upload, field_index, in_order
from .zonerules import NO_ZONE, Zone, ZoneGone

Sink = Union[FileSink, ChunkSink]
#: The direct-upload endpoints (:mod:`.direct_views`), refused in plain text as the others.
DIRECT_NAMES = ("start", "urls", "complete", "abort", "status")
DIRECT_ENDPOINTS = tuple(f"dropzone.direct_{name}" for name in DIRECT_NAMES)
log = logging.getLogger("flask_dropzone")
#: The session key of the random id that partial uploads are filed under.
CLIENT_KEY = "_dropzone_client"

#: After refusing an upload, read at most this much of the rest of its body so
#: that the browser receives the refusal instead of a reset connection.
DRAIN_LIMIT = 32 * 1024 * 1024
#: Room for multipart boundaries, part headers and form fields in a request.
OVERHEAD = 1024 * 1024
#: The longest boundary RFC 2046 allows; and the one longer boundary read, Werkzeug's test
#: client's (``-`` * 15, ``WerkzeugFormPart_``, the time and a random float: up to 75).
MAX_BOUNDARY = 70
TEST_CLIENT_BOUNDARY = re.compile(r"-{15}WerkzeugFormPart_[0-9.e-]{1,43}")
#: The refusal of a chunk request with several file parts (each would open the upload).
ONE_FILE = "A chunk request carries one file."
#: The refusal of a chunk sent to a zone without ``CHUNKING``.
NOT_CHUNKED = "This zone does not take chunked uploads."


def uploads(options: Options, folder: Optional[str] = None) -> list[Upload]:
    """This request's files under ``options.input_name``, checked against ``options``;
    refused files raise (several files with some refused: :class:`SomeFilesRefused`)."""
    judged = judge(options, folder)
    if judged.refusals:
        raise judged.refusal(accepted=judged.accepted, entries=[_entry(u) for u in judged.accepted])
    return judged.accepted


def save(options: Options, folder: str, zone: Zone = NO_ZONE) -> list[SavedFile]:
    """Store this request's accepted files; several files with some refused store the
    others and raise :class:`SomeFilesRefused`."""
    checks.check_secret_key(current_app, options)  # before anything is stored (delete tokens)
    judged = judge(options, folder)
    if judged.refusals and not judged.per_file:
        raise judged.refusal()
    stored = publish(judged.accepted, folder, options, zone)
    if judged.refusals:
        raise judged.refusal(accepted=stored, entries=[_entry(s) for s in stored])
    return stored


def _entry(accepted: Union[Upload, SavedFile]) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": accepted.filename or ""}
    if isinstance(accepted, SavedFile):
        entry["stored_name"] = accepted.stored_name
    return entry


class Judged:
    """The files of a request, each accepted or refused, in the order they were sent."""

    def __init__(self, order: list[Union[Upload, UploadRefused]], per_file: bool) -> None:
        self.order = order
        self.accepted = [item for item in order if isinstance(item, Upload)]
        self.refusals = [item for item in order if isinstance(item, UploadRefused)]
        #: Several files, not in a form: each has its own outcome.
        self.per_file = per_file

    def refusal(self, accepted: Sequence[Any] = (), entries: Sequence[dict[str, Any]] = ()) -> UploadRefused:
        """The exception to raise: the refusal itself, or one outcome per file."""
        if not self.per_file:
            return self.refusals[0]
        by_file = iter(entries)
        listed = [
            {"filename": item.filename or "", "status": item.code, "error": item.description}
            if isinstance(item, UploadRefused)
            else next(by_file)
            for item in self.order
        ]
        return SomeFilesRefused(listed, self.refusals, list(accepted))


def judge(options: Options, folder: Optional[str] = None) -> Judged:
    if request.mimetype != "multipart/form-data":
        return Judged([], per_file=False)
    parts = _parts(options, folder or upload_folder(options))
    mine = [item for item in in_order(parts, options.input_name) if not isinstance(item, Upload) or item.filename]
    validation.check_count(len(mine), options)
    order: list[Union[Upload, UploadRefused]] = []
    for item in mine:
        if isinstance(item, UploadRefused) or item.judged_by == options:
            order.append(item)  # refused, or judged by these settings while it arrived
            continue
        try:
            validation.check_size(item.size, options)
            item.detected_type = validation.check_type(item.safe_name, item.head, options)
        except UploadRefused as refused:
            order.append(refused.about(item.filename or ""))
            continue
        order.append(item)
    return Judged(order, per_file=len(order) > 1 and not options.in_form)


def not_kept(options: Options) -> list[str]:
    """The names of the files this request brought for the zone and nothing stored, if its
    body was read: in-form mode, a form sent back with errors lost them."""
    parts = g.get("_dropzone_parts") if request.method == "POST" else None
    if not parts:
        return []
    names = []
    for item in in_order(parts, options.input_name):
        if isinstance(item, UploadRefused) or not item.kept:
            names.append(item.filename or "")
    return [name for name in names if name]


def _parts(options: Options, folder: str) -> list[tuple[str, "Part"]]:
    """The request's file parts, received once: by the request's form parser (ours), with
    ``options`` if the body is read now, or as they were received when something read the
    form before (Flask-WTF's CSRFProtect): then the chunk protocol is applied to them now."""
    state = g._get_current_object()  # type: ignore[attr-defined]  # looked up once: the hot path
    if "_dropzone_refusal" in state:
        raise state._dropzone_refusal  # the body was refused and read no further: so it stays
    if "_dropzone_parts" not in state:
        req = request._get_current_object()  # type: ignore[attr-defined]
        if isinstance(req, UploadRequest):
            state._dropzone_zone = (options, folder)
            try:
                req.files  # noqa: B018  (our parser reads the body, checked against options)
            finally:
                state.pop("_dropzone_zone", None)
            if "_dropzone_refusal" in state:
                raise state._dropzone_refusal
        else:  # the app replaced its request class after init_app: Werkzeug parsed the body
            files = stores.of(current_app).files
            state._dropzone_parts = [(name, Upload.wrap(file, files)) for name, file in req.files.items(multi=True)]
            state._dropzone_checked = False
    if not state.get("_dropzone_checked"):
        state._dropzone_parts = _apply_chunks(state._dropzone_parts, options, folder)
        state._dropzone_checked = True
    elif state.get("_dropzone_chunks"):
        _recheck_chunks(state._dropzone_chunks, options)
    return state._dropzone_parts


def _recheck_chunks(received: list[ChunkSink], options: Options) -> None:
    """Chunks written into their upload by the zone's signed rules before the view ran
    (the form read by CSRFProtect): the view's own settings judge them too, as they judge
    its files, and an upload they would not have opened is refused now, its bytes gone,
    rather than kept until it expires."""
    for sink in received:
        if sink.options == options or sink.late:
            continue
        try:
            _check_chunk(sink, options)
        except UploadRefused as refused:
            _refuse_upload(sink, refused.code)
            refused.about(sink.filename)
            raise


def _check_chunk(sink: ChunkSink, options: Options) -> None:
    manifest = sink.chunk.manifest
    if not options.chunking:
        raise chunks.BadChunk("This zone does not take chunked uploads.")
    if manifest.chunk_size != options.chunk_size:
        raise chunks.BadChunk(f"The chunk size must be {options.chunk_size} bytes, not {manifest.chunk_size}.")
    validation.check_size(manifest.total_size, options)
    validation.check_name(sink.safe_name, options)
    held, count = chunk_store(sink.options).pending(client_id())  # this upload's included
    quota, most = options.chunk_quota, options.unfinished_uploads
    if (quota is not None and held > quota * validation.MIB) or (most is not None and count > most):
        raise chunks.BadChunk("Too many unfinished uploads; finish or cancel some first.")


def _refuse_upload(sink: ChunkSink, status: int) -> None:
    """Refuse the upload of a chunk received whole: its later chunks get the refusal."""
    if sink.upload is not None:  # it completed the file: the hand-over this request holds
        sink.upload.refuse(status)
        return
    partial = chunk_store(sink.options).open(client_id(), sink.chunk)
    try:
        partial.release()
        partial.refuse(status)
    finally:
        partial.close()


def _apply_chunks(parts: list[tuple[str, "Part"]], options: Options, folder: str) -> list[tuple[str, "Part"]]:
    """Files received before the zone's settings were known: a chunk among them is
    written into its upload now (a copy, the one place a chunk's bytes are written twice)."""
    form = request.form
    if not chunks.is_chunk(form):
        return parts
    files = [(name, item) for name, item in parts if isinstance(item, Upload) and item.filename]
    if len(files) > 1:
        raise chunks.BadChunk(ONE_FILE)
    if files and field_index(files[0][0], options.input_name) is not None and not options.chunking:
        raise chunks.BadChunk(NOT_CHUNKED)
    receiver = Receiver(request._get_current_object(), options, folder, checked=True)  # type: ignore[attr-defined]
    result: list[tuple[str, Part]] = []
    for name, item in parts:
        if not (isinstance(item, Upload) and item.filename and field_index(name, options.input_name) is not None):
            result.append((name, item))
            continue
        sink: Optional[ChunkSink] = None
        try:
            sink = receiver._chunk_sink(name, item.filename, item.headers, form)
            item.stream.seek(0)
            while True:
                block = item.stream.read(formdata.READ_SIZE)
                if not block:
                    break
                sink.write(block)
            sink.finish()
        except BaseException as error:
            refusal = _refusal(error, None)
            if isinstance(refusal, UploadRefused):
                refusal.about(item.filename)
            _discard([sink] if sink is not None else [])
            if refusal is error:
                raise
            raise refusal from error
        item.close()
        if sink.upload is not None:
            result.append((name, sink.upload))
            _settle_after_response([sink.upload])
    return result


def publish(files: list[Upload], folder: str, options: Options, zone: Zone = NO_ZONE) -> list[SavedFile]:
    """Give each accepted file its name in ``folder`` (the naming policy's, or a free
    variant), through the app's file store, and tell ``file_stored``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stored = []
    for upload in files:
        reserved = upload.reserved
        if reserved is not None and reserved[0] == folder and options.stored_name == "random":
            name = reserved[1]  # the random name drawn when its first chunk came
        else:
            name = stored_name(upload.filename or "", options.stored_name, upload)
        try:
            saved = dataclasses.replace(upload.publish(folder, name), zone=zone.name)
        except STORE_ERRORS as error:
            raise store_error(error).about(upload.filename or "") from error
        stored.append(saved)
        signals.file_stored.send(app, saved=saved)
    if options.delete_on_remove and stored:
        send_delete_tokens(app, stored, folder, options, zone)
    return stored


def delete_token(app: Flask, folder: str, name: str, options: Options, zone: Zone) -> Optional[str]:
    """The token that lets this client delete the stored file ``name`` of ``folder`` of
    ``zone``; None when no stored file has that name (nothing to delete)."""
    if not serving.servable(name):
        raise ValueError(
            f"{name!r} cannot be a stored file: give the name it is stored under "
            "(SavedFile.stored_name), not the client's filename or a path"
        )
    files = stores.of(app).files
    version = files.version(folder, name)
    if version is None:
        return None
    label = files.label(folder, upload_folder(resolve(app.config)))  # no server path on the page
    digest = deletion.version_digest(app, version)
    claim = deletion.Claim(label, name, digest, client_id(), options.delete_window, zone)
    return deletion.make_token(app, claim)


def existing_files(items: Sequence[Any], options: Options, folder: str, zone: Zone) -> list[dict[str, Any]]:
    """Files already stored, for a zone to show: what ``save()`` returned, or dicts with
    ``name`` (a stored name in the zone's ``folder``), ``size`` and, if any, ``filename``
    (the person's name for it, shown instead), ``url`` and ``thumbnail``. With ``DELETE_ON_REMOVE`` each gets a delete token, signed only for a
    name that can be a stored file's (``send_stored()``'s rule; another is an error) and
    names one."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    entries = []
    for item in items:
        if isinstance(item, SavedFile):
            where, name = stores.of(app).files.locate(item.location)
            entry: dict[str, Any] = {"name": item.stored_name, "filename": item.filename, "size": item.size}
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            where, name = folder, item["name"]
            entry = {"name": name, "size": int(item.get("size") or 0)}
            entry.update({key: str(item[key]) for key in ("filename", "url", "thumbnail") if item.get(key)})
        else:
            raise TypeError(f"existing= takes what save() returned or dicts with a 'name', not {item!r}")
        token = delete_token(app, where, name, options, zone) if options.delete_on_remove else None
        if token is not None:
            entry["token"] = token
        entries.append(entry)
    return entries


def send_delete_tokens(app: Flask, stored: list[SavedFile], folder: str, options: Options, zone: Zone) -> None:
    """Add to the response a token for each stored file, for its remove link to delete it.
    The files are stored: a store that cannot say a file's version now leaves that file
    without a token (logged), rather than answering an error for a stored file."""
    entries = []
    for saved in stored:
        try:
            token = delete_token(app, folder, saved.stored_name, options, zone)
        except STORE_ERRORS as error:
            log.warning("no delete token for %r: %s", saved.location, error)
            continue
        if token is not None:
            entries.append({"filename": saved.filename, "token": token})
    value = json.dumps(entries)  # ASCII: a header value

    @after_this_request
    def add_tokens(response):
        response.headers[deletion.HEADER] = value
        return response


def upload_status() -> Response:
    """The status endpoint: the chunks this client's unfinished upload holds, for a zone
    resuming it (``RESUME``); 404 for an upload that is not this client's, or not open."""
    client = session.get(CLIENT_KEY)
    found = None
    if isinstance(client, str):
        try:
            found = chunk_store(resolve(current_app.config)).held_chunks(client, request.args.get("dzuuid", ""))
        except STORE_ERRORS as error:
            raise store_error(error) from error
    if found is None:
        raise deletion.NotYours("There is no such upload.")
    manifest, held = found
    status = {"held": held, "size": manifest.total_size, "chunkSize": manifest.chunk_size, "count": manifest.count}
    return Response(json.dumps(status), mimetype="application/json", headers={"Cache-Control": "no-store"})


def renew_rules() -> Response:
    """The rules endpoint: a page that lives longer than its zone's signed rules
    (``DROPZONE_CHUNK_EXPIRES``) asks for fresh ones while they still hold; rules that
    expired, or of a zone removed since, are refused (the page must be loaded again)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = session.get(CLIENT_KEY)
    zone = zonerules.load(app, request.headers.get(zonerules.HEADER), client)
    if zone is None or not isinstance(client, str):
        raise BadUpload(zonerules.EXPIRED)
    fresh = {"rules": zonerules.sign(app, zone, client), "expires": zonerules.max_age(app)}
    return Response(json.dumps(fresh), mimetype="application/json", headers={"Cache-Control": "no-store"})


def forget_client() -> None:
    """Give this browser a new client id at its next upload: what the old one was given
    (partial uploads, resume entries, delete tokens, signed rules) is no longer its own.
    Call it when a person logs out (done for you on Flask-Login's ``user_logged_out``)."""
    session.pop(CLIENT_KEY, None)


def cancel_upload() -> Response:
    """The cancel endpoint: a person removed a file whose chunks were still on their way;
    its partial upload (this client's only) ends now rather than at the sweep."""
    upload = request.form.get("dzuuid", "")
    client = session.get(CLIENT_KEY)
    store = chunk_store(resolve(current_app.config))
    try:
        cancelled = isinstance(client, str) and store.cancel(client, upload)
    except STORE_ERRORS as error:
        raise store_error(error) from error
    if not cancelled:
        raise deletion.NotYours("There is no such upload.")
    log.info("upload %s cancelled by its client", upload)
    return Response("Cancelled.", mimetype="text/plain")


def delete_stored(checks: Sequence[Callable[[str, str], Any]]) -> Response:
    """The delete endpoint: a person removed a stored file from its zone. The token says
    which file and zone; today's settings of that zone say whether and until when."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        claim = deletion.read_token(app, request.form.get("token"), session.get(CLIENT_KEY))
        if not serving.servable(claim.name):
            raise deletion.NotYours("There is no such file to delete.")
        try:
            options = claim.zone.options(app.config)
        except ZoneGone:
            options = None
        if options is None or not options.delete_on_remove:
            raise deletion.Vetoed("This file cannot be deleted here.")
        deletion.check_window(claim, options.delete_window)
        files = stores.of(app).files
        try:
            folder = files.unlabel(claim.folder, upload_folder(resolve(app.config)))
        except ValueError:
            raise deletion.NotYours("There is no such file to delete.") from None
        version = files.version(folder, claim.name)
        if version is None or not signing.digest_matches(app, deletion.VERSION_PURPOSE, version, claim.version):
            raise deletion.NotYours("There is no such file to delete.")  # deleted, or another file since
        if not all(check(claim.name, folder) for check in checks):
            raise deletion.Vetoed("This file cannot be deleted.")
        if not files.delete(folder, claim.name, version):  # that very file, not one stored since
            raise deletion.NotYours("There is no such file to delete.")
    except deletion.DeleteRefused as refused:
        log.info("delete refused, %s: %s (client %s)", refused.code, refused.description, request.remote_addr)
        raise
    except STORE_ERRORS as error:
        raise store_error(error) from error
    signals.file_deleted.send(app, name=claim.name, folder=folder)
    log.info("deleted %r from %r at the client's request", claim.name, folder)
    return Response("Deleted.", mimetype="text/plain")


def report(refused: UploadRefused, zone: Optional[str] = None) -> None:
    """Tell the app (``upload_refused``, with the named ``zone`` if any) and the log (one
    INFO line) about each refusal."""
    if getattr(refused, "_dropzone_reported", False):
        return  # once, whoever met it first (the form parser, a view)
    refused._dropzone_reported = True  # type: ignore[attr-defined]
    if isinstance(refused, SomeFilesRefused):
        for each in refused.refusals:
            report(each, zone)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    log.info(
        "upload refused, %s: %s (file %s, client %s)",
        refused.code,
        refused.description,
        "-" if refused.filename is None else repr(refused.filename),  # repr: a name cannot forge a line
        request.remote_addr,
    )
    signals.upload_refused.send(
        app, filename=refused.filename, status=refused.code, reason=refused.description, zone=zone
    )


STORE_ERRORS = (StoreFull, StoreLimit, StoreUnavailable)


def store_error(error: Exception, reading: bool = False) -> UploadRefused:
    """The refusal for a store that is full, cannot hold so large a file, or cannot be
    used (``reading``: to send a stored file). Each is logged: an operator wants to know
    the disk is full."""
    log.error("%s failed: %s", "reading a stored file" if reading else "storing an upload", error)
    if isinstance(error, StoreFull):
        return InsufficientStorage("The server has no room for this file.")
    if isinstance(error, StoreLimit):
        return FileTooLarge("The file is larger than the server can store.")
    doing = "send" if reading else "store"
    return StorageUnavailable(f"The server cannot {doing} files right now; try again later.")


def end_request(exception: Optional[BaseException] = None) -> None:
    """Teardown: give back hand-overs the request did not settle, and close its files."""
    for _, item in g.pop("_dropzone_parts", None) or ():
        if isinstance(item, Upload):
            item.close()


def client_id() -> str:
    """This client's id (in its session): partial uploads are filed under it, so that
    knowing another client's ``dzuuid`` does not let anyone write into its upload."""
    checks.needs_secret_key(current_app, "Chunked uploads (DROPZONE_CHUNKING, or chunking=True)")
    client = session.get(CLIENT_KEY)
    if not isinstance(client, str) or not re.fullmatch(r"[0-9a-f]{32}", client):
        client = session[CLIENT_KEY] = secrets.token_hex(16)
    return client


def upload_folder(options: Options, folder: Optional[str] = None) -> str:
    """Where ``save()`` stores files: ``folder``, else the upload folder, as the store names it.
    On disk a relative folder is in the app's instance folder, never in the working
    directory of whoever started the app (in a bucket it is a key prefix inside the prefix)."""
    files = stores.of(current_app).files
    default = os.path.join(current_app.instance_path, options.upload_folder or "uploads")
    if folder is not None and files.local:
        folder = os.path.join(current_app.instance_path, folder)
    return files.folder(folder, default)


def chunk_folder(options: Options) -> str:
    """Where partial uploads live; a relative folder is in the instance folder."""
    return os.path.abspath(os.path.join(current_app.instance_path, options.chunk_folder or "dropzone-chunks"))


def chunk_store(options: Options) -> PartialStore:
    return stores.of(current_app).partials(chunk_folder(options))


Part = Union[Upload, UploadRefused]


class UploadFormParser(FormDataParser):
    """The app's form body parser (Werkzeug's ``form_data_parser_class``): a multipart
    body is read by ours, each file written once, into the upload folder, whoever reads
    the form first. Read by ``files()`` or ``save()``, its files are checked while bytes
    arrive against their settings; read before the view (CSRFProtect), against the
    zone's signed rules (:mod:`.zonerules`) if the request carries valid ones, else
    received unchecked, and ``files()`` and ``save()`` judge again by their own
    settings where these differ."""

    request: Optional[Request] = None

    def parse(self, stream: IO[bytes], mimetype: str, content_length: Optional[int], options: Any = None) -> Any:
        if mimetype != "multipart/form-data" or self.request is None:
            return super().parse(stream, mimetype, content_length, options)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        zone = g.get("_dropzone_zone")  # the view's own settings, reading the body now
        signed = None
        if zone is None:  # else the zone's own settings, signed: whoever reads the form
            signed = zonerules.load(app, self.request.headers.get(zonerules.HEADER), session.get(CLIENT_KEY))
            if signed is not None:
                rules = signed.options(app.config)
                zone = (rules, upload_folder(rules))
        if zone is not None:
            settings, folder, checked = zone[0], zone[1], True
        else:
            settings = resolve(app.config)
            folder, checked = upload_folder(settings), False
        receiver = Receiver(self.request, settings, folder, checked=checked)
        try:
            fields = receiver.parse(stream, (options or {}).get("boundary", ""))
        except UploadRefused as refused:
            g._dropzone_refusal = refused
            if signed is not None:  # refused before any view (CSRFProtect's read): told here
                report(refused, signed.name)
            if checked or not isinstance(refused, BadUpload) or not self.silent:
                raise
            return io.BytesIO(), self.cls(), self.cls()  # Werkzeug's way with a malformed body
        g._dropzone_parts, g._dropzone_checked = receiver.parts(), checked
        g._dropzone_chunks = [sink for sink in receiver.sinks if isinstance(sink, ChunkSink)]
        files = self.cls([(name, item) for name, item in g._dropzone_parts if isinstance(item, Upload)])
        return io.BytesIO(), fields, files


class UploadRequest(Request):
    """Marks the app's request class as ours; see :func:`install`."""

    form_data_parser_class = UploadFormParser

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        if isinstance(parser, UploadFormParser):
            parser.request = self
        return parser


def install(app: Flask) -> None:
    """Give the app a request class whose form parser is ours (a subclass of its own)."""
    if not issubclass(app.request_class, UploadRequest):
        base = app.request_class
        app.request_class = type(base.__name__, (UploadRequest, base), {})  # type: ignore[assignment]


def _settle_after_response(received: list[Upload]) -> None:
    """Commit or give back the request's hand-overs once its status is known."""
    received = [upload for upload in received if upload._handover is not None]
    if not received:
        return

    @after_this_request
    def settle(response):
        for upload in received:
            try:
                upload.settle(response.status_code)
            except STORE_ERRORS as error:  # its end not recorded (a full disk): the answer stands
                log.error("ending a chunked upload failed: %s", error)
        return response


def _discard(sinks: Sequence[Sink]) -> None:
    """Give back what the sinks of a refused request hold; a clean-up that fails (a planted
    entry) is logged, and the request's own refusal answered."""
    for sink in sinks:
        try:
            sink.discard()
        except Exception as error:
            log.error("cleaning up a refused upload failed: %s", error)


class Receiver:
    """Reads one request's body, each file part into its sink as it arrives: checked
    against ``options`` (``checked``), or received as it is, to be judged later."""

    def __init__(self, req: Request, options: Options, folder: str, checked: bool = True) -> None:
        self.req, self.options, self.folder, self.checked = req, options, folder, checked
        self.files = stores.of(current_app).files
        self.sinks: list[Sink] = []
        self.count = 0
        #: Files of a zone sending several per request are refused one by one, not all at once.
        self.per_file = checked and options.upload_multiple and not options.in_form
        self.opening: Optional[str] = None  #: the file whose sink is being made
        self.memory = 0  #: bytes of file parts held in memory
        self.open_files = 0  #: temporary files of finished parts kept open
        self.boundary = ""

    def size_of_only_file(self, sink: FileSink) -> int:
        """The size of a file refused while it arrives, for its message: the body's length
        less the framing around one file part, as a zone sends it (at least what came)."""
        length = self.req.content_length
        if length is None or self.options.upload_multiple or self.options.in_form or len(self.sinks) > 1:
            return sink.size
        headers = sum(len(key) + len(value) + 4 for key, value in sink.headers.items())
        framing = 2 * len(self.boundary) + headers + 14  # --B CRLF, headers, CRLF, CRLF --B-- CRLF
        return max(sink.size, length - framing)

    @property
    def current(self) -> Optional[str]:
        """The client's name of the file being received, if one is."""
        if self.opening is not None:
            return self.opening
        sink = self.sinks[-1] if self.sinks else None
        return sink.filename if sink is not None and not sink.finished else None

    def parts(self) -> list[tuple[str, Part]]:
        """The file parts received, as (field, file) pairs; a file refused on its own
        (one outcome per file) is its refusal."""
        parts: list[tuple[str, Part]] = []
        for sink in self.sinks:
            if sink.upload is not None:
                parts.append((sink.name, sink.upload))
            elif isinstance(sink, FileSink) and sink.refusal is not None:
                parts.append((sink.name, sink.refusal))
        return parts

    def parse(self, stream: IO[bytes], boundary: str) -> "MultiDict[str, str]":
        """Read the body; return its fields. A refusal names its file, and leaves nothing."""
        try:
            fields = self._parse(stream, boundary)
        except BaseException as error:
            if isinstance(error, UploadRefused) and self.current is not None:
                error.about(self.current)
            _discard(self.sinks)
            raise
        received = [sink.upload for sink in self.sinks if sink.upload is not None]
        _settle_after_response(received)
        if any(isinstance(sink, FileSink) and sink.staged is not None and sink.staged.leaves_traces for sink in self.sinks):
            _clean_later(self.options)  # no O_TMPFILE here: a dead process would leave its file behind
        return fields

    def open_sink(self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]") -> Sink:
        self.opening = filename or None
        sink = self._open_sink(name, filename, headers, fields)
        self.opening = None
        return sink

    def _open_sink(self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]") -> Sink:
        options = self.options
        mine = self.checked and filename != "" and field_index(name, options.input_name) is not None
        if self.checked and filename and chunks.is_chunk(fields) and any(sink.filename for sink in self.sinks):
            raise chunks.BadChunk(ONE_FILE)  # before a second chunk waits on the first's hand-over
        if mine:
            self.count += 1
            validation.check_count(self.count, options)
        sink: Sink
        if mine and chunks.is_chunk(fields):
            if not options.chunking:
                raise chunks.BadChunk(NOT_CHUNKED)
            sink = self._chunk_sink(name, filename, headers, fields)
        else:
            sink = FileSink(self, name, filename, headers, self.folder, options if mine else None)
        self.sinks.append(sink)
        return sink

    def _chunk_sink(self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]") -> ChunkSink:
        options = self.options
        chunk = chunks.parse(fields, filename, options.chunk_size)
        store = chunk_store(options)
        if self.files.local:
            check_folders(self.folder, chunk_folder(options))
        sink = ChunkSink(name, headers, chunk, options, store, self.files, client_id(), self.folder)
        _clean_later(options)
        return sink

    def _parse(self, stream: IO[bytes], boundary: str) -> "MultiDict[str, str]":
        req, options = self.req, self.options
        self.boundary = boundary
        if not boundary:
            raise BadUpload("The upload is not valid multipart/form-data: it has no boundary.")
        if len(boundary) > MAX_BOUNDARY and not TEST_CLIENT_BOUNDARY.fullmatch(boundary):
            raise BadUpload("The upload is not valid multipart/form-data: its boundary is over 70 characters.")
        limit = validation.size_limit(options)
        length = req.content_length
        if self.checked and length is not None and limit is not None and options.max_files is not None:
            if length > options.max_files * limit + OVERHEAD:
                raise validation.too_large(length, options)  # refused from the headers alone
        environ = req.environ
        body = _Body(stream, length, environ.get("wsgi.input") if environ.get("wsgi.input_terminated") else None)
        try:
            fields = formdata.parse(
                body.read,
                boundary.encode("latin-1", "replace"),
                self.open_sink,
                max_form_memory_size=req.max_form_memory_size,
                max_form_parts=req.max_form_parts,
            )
            if chunks.is_chunk(fields) and any(isinstance(s, FileSink) and s.options for s in self.sinks):
                raise chunks.BadChunk("The chunk fields must come before the file.")
        except BaseException as error:
            refusal = _refusal(error, body)
            if refusal is error:
                raise
            raise refusal from error
        return fields


def clean(options: Options, expires: float, folders: tuple[str, ...] = ()) -> CleanReport:
    """Remove abandoned partial uploads (direct uploads too, with ``DROPZONE_S3_DIRECT``),
    and temporary files of dead processes from the upload folder and ``folders``."""
    app_stores = stores.of(current_app)
    folders = (upload_folder(options), *folders)
    return _sweep(chunk_store(options), app_stores.files, folders, expires, app_stores.direct)


def _sweep(
    store: PartialStore, files: FileStore, folders: tuple[str, ...], expires: float, direct: Any = None
) -> CleanReport:
    report = store.clean(expires)
    removed, freed = files.clean(folders, expires)
    report.temporaries += removed
    report.freed += freed
    if direct is not None:  # S3Direct: direct uploads started longer than ``expires`` ago
        aborted, freed = direct.clean(expires)
        report.partial_uploads += aborted
        report.freed += freed
    return report


def _clean_later(options: Options) -> None:
    """Once in a while, after a request that used the chunk folder or hidden temporary
    files, run :func:`clean` (after the response is sent). Each partial upload expires by
    its own expiry; the rest, by the app's ``CHUNK_EXPIRES``, never the zone's."""
    if g.get("_dropzone_clean"):
        return
    g._dropzone_clean = True
    app_stores = stores.of(current_app)
    store, files, folders = chunk_store(options), app_stores.files, (upload_folder(options),)
    direct = app_stores.direct
    interval = min(options.chunk_expires / 4, 3600)
    expires = resolve(current_app.config).chunk_expires

    def clean_if_due() -> None:  # runs after the response, outside the app context
        try:
            if store.clean_due(interval):
                _sweep(store, files, folders, expires, direct)
        except STORE_ERRORS as error:  # a full disk, a planted entry: the next sweep tries again
            log.error("cleaning up partial uploads failed: %s", error)

    @after_this_request
    def later(response):
        response.call_on_close(clean_if_due)
        return response


class _Body:
    """The request body, read on demand, counting what was read. ``raw`` is the server's
    own stream of a body without a length (chunked), which the server ends itself."""

    def __init__(self, stream: IO[bytes], length: Optional[int], raw: Optional[IO[bytes]] = None) -> None:
        self.stream, self.length, self.raw = stream, length, raw
        self.consumed = 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)  # past MAX_CONTENT_LENGTH: RequestEntityTooLarge
        self.consumed += len(data)
        return data

    def drain(self) -> None:
        """Read what is left, when little is (at most DRAIN_LIMIT of a body without a
        length, past ``MAX_CONTENT_LENGTH`` too), so that the client receives the refusal
        instead of a reset connection."""
        if self.length is None:
            stream, left = self.raw, DRAIN_LIMIT
        else:
            stream, left = self.stream, self.length - self.consumed
        if stream is None or left > DRAIN_LIMIT:
            return
        try:
            while left > 0:
                block = stream.read(min(left, formdata.READ_SIZE))
                if not block:
                    break
                left -= len(block)
        except (OSError, HTTPException, ValueError):
            pass


def _refusal(error: BaseException, body: Optional[_Body]) -> BaseException:
    """The refusal to answer with for ``error``, after draining what is left of the body."""
    if isinstance(error, RequestEntityTooLarge):
        error = FileTooLarge("The upload is larger than the server accepts.")
    elif isinstance(error, formdata.Malformed):
        error = BadUpload(f"The upload is not valid multipart/form-data: {error}")
    elif isinstance(error, STORE_ERRORS):
        error = store_error(error)
    if isinstance(error, UploadRefused) and body is not None:
        body.drain()
    return error


def plain_upload_errors(app: Flask) -> None:
    """Answer uploads (and deletes from a remove link) refused before the view runs in
    plain text, as Dropzone shows it under the thumbnails: Flask-WTF's CSRF errors, and a body over ``MAX_CONTENT_LENGTH``
    (Werkzeug's own 413 is an HTML page); unless the app handles these errors itself."""
    handlers = app.error_handler_spec[None]

    def too_large(error: HTTPException) -> HTTPException:
        if request.mimetype != "multipart/form-data":
            return error
        return FileTooLarge("The upload is larger than the server accepts.")

    if RequestEntityTooLarge not in handlers.get(413, {}):
        app.register_error_handler(RequestEntityTooLarge, too_large)
    try:
        from flask_wtf.csrf import CSRFError
    except ImportError:
        return
    if CSRFError in handlers.get(400, {}):
        return

    def csrf_error(error: HTTPException) -> HTTPException:
        is_upload = request.headers.get("X-Requested-With") == "XMLHttpRequest" and request.files
        mine = request.endpoint in ("dropzone.delete", "dropzone.cancel", *DIRECT_ENDPOINTS)
        return plain_text(error) if is_upload or mine else error

    app.register_error_handler(CSRFError, csrf_error)

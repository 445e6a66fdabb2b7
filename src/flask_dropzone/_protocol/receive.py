"""A view's files: the request's uploads, judged by the view's settings (the chunks among
them applied), stored under free names and announced."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence, Union

from flask import current_app, g, request

from .. import _stores as stores
from .. import signals
from .._rules import checks, chunks, formdata, validation
from .._rules.filenames import stored_name
from .._rules.settings import Options
from .._rules.zonerules import NO_ZONE, Zone
from ..errors import SomeFilesRefused, UploadRefused
from . import deletion
from .clients import client_id
from .context import the_app
from .folders import chunk_store, upload_folder
from .parsing import (
    NOT_CHUNKED,
    ONE_FILE,
    Part,
    Receiver,
    UploadRequest,
    answer_for,
    discard,
    settle_after_response,
)
from .reporting import store_refusals
from .sinks import ChunkSink, field_index, in_order
from .uploads import SavedFile, Upload, stored_entry


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
    judged = prepare(judge(options, folder), folder)
    if judged.refusals and not judged.per_file:
        raise judged.refusal()
    stored = publish(judged.accepted, folder, options, zone)
    if judged.refusals:
        raise judged.refusal(accepted=stored, entries=[_entry(s) for s in stored])
    return stored


def _entry(accepted: Union[Upload, SavedFile]) -> dict[str, Any]:
    """A file accepted among refused ones: as every answer names a stored file, or by its name."""
    if isinstance(accepted, SavedFile):
        return stored_entry(accepted)
    return {"filename": accepted.filename or ""}


class Judged:
    """The files of a request, each accepted or refused, in the order they were sent."""

    def __init__(self, order: list[Union[Upload, UploadRefused]], per_file: bool) -> None:
        self.order = order
        self.accepted = [item for item in order if isinstance(item, Upload)]
        self.refusals = [item for item in order if isinstance(item, UploadRefused)]
        #: Several files, not in a form: each has its own outcome.
        self.per_file = per_file

    def refusal(
        self, accepted: Sequence[Any] = (), entries: Sequence[dict[str, Any]] = ()
    ) -> UploadRefused:
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
    mine = [
        item
        for item in in_order(parts, options.input_name)
        if not isinstance(item, Upload) or item.filename
    ]
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
    for item in order:
        if isinstance(item, Upload):
            item.strip = options.strip_metadata
    return Judged(order, per_file=len(order) > 1 and not options.in_form)


def prepare(judged: Judged, folder: str) -> Judged:
    """Each accepted file made ready to store (stripped of its metadata) before any is
    stored: an image too damaged to strip is refused as a file of another type is."""
    order: list[Union[Upload, UploadRefused]] = []
    for item in judged.order:
        if isinstance(item, Upload):
            try:
                with store_refusals(item.filename or ""):
                    item.prepare(folder)
            except UploadRefused as refused:  # the request's end settles or closes it
                order.append(refused.about(item.filename or ""))
                continue
        order.append(item)
    return Judged(order, judged.per_file)


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
            state._dropzone_parts = [
                (name, Upload.wrap(file, files)) for name, file in req.files.items(multi=True)
            ]
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
        raise chunks.BadChunk(
            f"The chunk size must be {options.chunk_size} bytes, not {manifest.chunk_size}."
        )
    validation.check_size(manifest.total_size, options)
    validation.check_name(sink.safe_name, options)
    held, count = chunk_store(sink.options).unfinished(client_id())  # this upload's included
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


def _apply_chunks(
    parts: list[tuple[str, "Part"]], options: Options, folder: str
) -> list[tuple[str, "Part"]]:
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
    req = request._get_current_object()  # type: ignore[attr-defined]
    receiver = Receiver(req, options, folder, checked=True)
    result: list[tuple[str, Part]] = []
    for name, item in parts:
        if not (
            isinstance(item, Upload)
            and item.filename
            and field_index(name, options.input_name) is not None
        ):
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
            refusal = answer_for(error, None)
            if isinstance(refusal, UploadRefused):
                refusal.about(item.filename)
            discard([sink] if sink is not None else [])
            if refusal is error:
                raise
            raise refusal from error
        item.close()
        if sink.upload is not None:
            result.append((name, sink.upload))
            settle_after_response([sink.upload])
    return result


def publish(
    files: list[Upload], folder: str, options: Options, zone: Zone = NO_ZONE
) -> list[SavedFile]:
    """Give each accepted file its name in ``folder`` (the naming policy's, or a free
    variant), through the app's file store, and tell ``file_stored``."""
    app = the_app()
    stored = []
    for upload in files:
        reserved = upload.reserved
        if reserved is not None and reserved[0] == folder and options.stored_name == "random":
            name = reserved[1]  # the random name drawn when its first chunk came
        else:
            name = stored_name(upload.filename or "", options.stored_name, upload)
        with store_refusals(upload.filename or ""):
            saved = dataclasses.replace(upload.publish(folder, name), zone=zone.name)
        stored.append(saved)
        signals.file_stored.send(app, saved=saved)
    if options.delete_on_remove and stored:
        deletion.send_delete_tokens(app, stored, folder, options, zone)
    return stored


def end_request(exception: Optional[BaseException] = None) -> None:
    """Teardown: give back hand-overs the request did not settle, and close its files."""
    for _, item in g.pop("_dropzone_parts", None) or ():
        if isinstance(item, Upload):
            item.close()

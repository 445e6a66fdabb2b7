"""A form field's endpoints (:class:`~..forms.DropzoneField`): its files uploaded as they are
dropped and kept pending, one discarded when its person removes it, and one sent back (a
thumbnail of a form shown again), each for the client that uploaded it only."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request, session

from .. import _stores as stores
from .._protocol import pending_files, receive, sending
from .._protocol.clients import CLIENT_KEY
from .._protocol.context import the_app
from .._protocol.deletion import NotYours
from .._protocol.reporting import log, report, store_refusals
from .._protocol.sweep import clean_later
from .._rules import delivery, pending
from .._rules.zonerules import ZoneGone
from ..errors import BadUpload, UploadRefused

#: What a request without the field's valid ticket is told.
EXPIRED = "This form's upload settings have expired; reload the page."
_NO_FILE = "There is no such file."


def receive_files() -> Response:
    """``POST /dropzone/pending``: a file of a field (or a chunk of one), judged by the
    field's zone of today while it arrives, kept pending; the answer gives each file kept
    its reference (a chunk before the last: none)."""
    app = the_app()
    ticket = pending.read_ticket(app, request.headers.get(pending.HEADER), session.get(CLIENT_KEY))
    try:
        if ticket is None:
            raise BadUpload(EXPIRED)
        try:
            options = ticket.zone.options(app.config)
        except ZoneGone:
            raise BadUpload(EXPIRED) from None
        folder = pending_files.folder_of(app, ticket.client)
        judged = receive.prepare(receive.judge(options, folder), folder)
        if judged.refusals:
            raise judged.refusal()
        pending_files.check_room(options, ticket.client, judged.accepted)
        kept = [
            _entry(*pending_files.keep(app, ticket.client, ticket.binding, upload))
            for upload in judged.accepted
        ]
        clean_later(options)  # pending files nobody claimed go now and then, on every store
    except UploadRefused as refused:
        report(refused, ticket.zone.name if ticket else None)
        raise
    return Response(
        json.dumps({"files": kept}),
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _entry(found: pending.Reference, token: str) -> dict[str, Any]:
    return {
        "filename": found.filename,
        "size": found.size,
        "type": found.mimetype,
        "reference": token,
    }


def _reference(app: Flask, token: Any) -> pending.Reference:
    found = pending.read_reference(app, token, session.get(CLIENT_KEY))
    if found is None:
        raise NotYours(_NO_FILE)
    return found


def discard() -> Response:
    """``POST /dropzone/pending/discard``: a pending file its person removed goes now, not at
    the sweep (``reference``: its reference)."""
    app = the_app()
    found = _reference(app, request.form.get("reference"))
    with store_refusals():
        gone = stores.of(app).files.delete(
            pending_files.folder_of(app, found.client), found.id, variants=False
        )
    if not gone:
        raise NotYours(_NO_FILE)  # claimed, discarded or expired already
    log.info("pending file %s discarded by its client", found.id)
    return Response("Discarded.", mimetype="text/plain")


def send_file() -> Response:
    """``GET /dropzone/pending/file?reference=...``: a pending file, to its client only (a
    thumbnail of a form shown again), with the safety headers of every stored file."""
    app = the_app()
    found = _reference(app, request.args.get("reference"))
    folder = pending_files.folder_of(app, found.client)
    return sending.send_stored(
        folder, found.id, delivery.URL_EXPIRES, shown_as=found.filename or "file"
    )

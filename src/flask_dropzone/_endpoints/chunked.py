"""A chunked upload's endpoints: which chunks the server holds (for a zone resuming it),
and its end when its person cancels it."""

from __future__ import annotations

import json

from flask import Response, current_app, request, session

from .._protocol import deletion
from .._protocol.clients import CLIENT_KEY
from .._protocol.folders import chunk_store
from .._protocol.reporting import log, store_refusals
from .._rules.settings import resolve


def upload_status() -> Response:
    """The status endpoint: the chunks this client's unfinished upload holds, for a zone
    resuming it (``RESUME``); 404 for an upload that is not this client's, or not open."""
    client = session.get(CLIENT_KEY)
    found = None
    if isinstance(client, str):
        with store_refusals():
            found = chunk_store(resolve(current_app.config)).held_chunks(
                client, request.args.get("dzuuid", "")
            )
    if found is None:
        raise deletion.NotYours("There is no such upload.")
    manifest, held = found
    status = {
        "held": held,
        "size": manifest.total_size,
        "chunkSize": manifest.chunk_size,
        "count": manifest.count,
    }
    return Response(
        json.dumps(status), mimetype="application/json", headers={"Cache-Control": "no-store"}
    )


def cancel_upload() -> Response:
    """The cancel endpoint: a person removed a file whose chunks were still on their way;
    its partial upload (this client's only) ends now rather than at the sweep."""
    upload = request.form.get("dzuuid", "")
    client = session.get(CLIENT_KEY)
    store = chunk_store(resolve(current_app.config))
    with store_refusals():
        cancelled = isinstance(client, str) and store.cancel(client, upload)
    if not cancelled:
        raise deletion.NotYours("There is no such upload.")
    log.info("upload %s cancelled by its client", upload)
    return Response("Cancelled.", mimetype="text/plain")

"""The direct-upload endpoints (a zone's ``s3_direct``): the browser sends a file's
bytes straight to the bucket, as parts through presigned URLs, and asks these
endpoints to start, refresh, complete, abort and resume its upload. No file byte
reaches the app; the server judges the file before (name, declared size, quota)
and after (every part with its exact size, then the content's first bytes), and
completes the upload, where the file is stored, only once it is judged.

Each takes a JSON body (``status``: a query) and answers JSON, or a refusal in
plain text as every upload does; the steps behind them are
:mod:`~flask_dropzone._protocol.direct_uploads`. A file is judged by its zone (the
``X-Dropzone-Zone`` header its page sent, :mod:`~flask_dropzone._rules.zonerules`) with that
zone's settings of the day: a request without valid rules signed for direct uploads (a
view's, a zone's that no longer uploads direct) starts nothing. The token ``start`` returns
names the zone, so that the upload is completed in the zone it started in, judged again by
that zone's settings then, and only the session that started an upload may use it (another
gets 404, as if there were none).
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any, Callable, Optional

from flask import Blueprint, Flask, Response, g, request, session

from .. import _stores as stores
from .._protocol import direct_uploads
from .._protocol.clients import CLIENT_KEY
from .._protocol.context import the_app
from .._protocol.deletion import NotYours
from .._protocol.direct_uploads import NO_UPLOAD, DirectCompletion
from .._protocol.reporting import STORE_ERRORS, report, store_error
from .._protocol.uploads import answer
from .._rules import direct, zonerules
from .._rules.direct import Ticket
from .._rules.settings import resolve
from .._rules.zonerules import Zone
from .._stores import DirectStore, StoreBusy, UploadGone
from ..errors import BadUpload, UploadBusy, UploadRefused

#: Largest JSON body the endpoints read.
JSON_LIMIT = 64 * 1024


def register(blueprint: Blueprint) -> None:
    """Add the endpoints to the extension's blueprint (only with S3 storage), named as
    :data:`.DIRECT_ENDPOINTS` lists them."""
    blueprint.add_url_rule("/dropzone/direct/start", "direct_start", start, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/urls", "direct_urls", urls, methods=["POST"])
    blueprint.add_url_rule(
        "/dropzone/direct/complete", "direct_complete", complete, methods=["POST"]
    )
    blueprint.add_url_rule("/dropzone/direct/abort", "direct_abort", abort, methods=["POST"])
    blueprint.add_url_rule("/dropzone/direct/status", "direct_status", status, methods=["GET"])


def _endpoint(view: Callable[[], Response]) -> Callable[[], Response]:
    """Refusals about a file are reported (``upload_refused``, a log line) like any upload's;
    a store that cannot be used is a 503 (the store says so: never a 500 for what S3
    answered), an upload no longer there a 404."""

    @wraps(view)
    def answer() -> Response:
        try:
            try:
                return view()
            except STORE_ERRORS as error:
                raise store_error(error) from error
            except StoreBusy:
                raise UploadBusy("The server is busy with this upload; try again.") from None
            except UploadGone:
                raise NotYours(NO_UPLOAD) from None
        except UploadRefused as refused:
            if 400 <= refused.code < 500 and not isinstance(refused, NotYours):
                report(refused, g.get("_dropzone_direct_zone"))
            raise

    return answer


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data),
        status=status,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


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


def _ticket(app: Flask, token: str, zone: Optional[Zone] = None) -> tuple[Ticket, float]:
    """The upload a token names, if this session started it (and in ``zone``, the zone of
    the page asking); else 404."""
    found = direct.read_token(app, token, _max_age(app))
    client = session.get(CLIENT_KEY)
    if found is None or not isinstance(client, str) or found[0].client != client:
        raise NotYours(NO_UPLOAD)
    if zone is not None and found[0].zone != zone:
        raise NotYours(NO_UPLOAD)  # another zone's upload: it is not resumed, nor completed, here
    return found


# The endpoints -------------------------------------------------------------------------


@_endpoint
def start() -> Response:
    """``{"name", "size", "type"}``: the upload's token and a presigned URL for each part."""
    app = the_app()
    store = _store(app)
    name, size, _ = direct.parse_start(
        _body()
    )  # the browser's type: the server judges by name and content
    ticket, links = direct_uploads.start_upload(app, store, _zone(app), name, size)
    return _json(
        {
            "upload": direct.make_token(app, ticket),
            "partSize": ticket.part_size,
            "parts": ticket.parts,
            "urls": links,
            "expires": direct.URL_EXPIRES,
        }
    )


@_endpoint
def urls() -> Response:
    """``{"upload"}``: fresh part URLs, for an upload that outlasts them."""
    app = the_app()
    ticket, made = _ticket(app, direct.parse_token(_body()), _zone(app))
    expires = direct.url_expiry(made, _max_age(app))
    links = direct_uploads.renew_urls(_store(app), ticket, expires)
    return _json({"urls": links, "expires": expires})


@_endpoint
def status() -> Response:
    """``?upload=<token>``: the parts the bucket holds, for a browser resuming the upload."""
    app = the_app()
    ticket, _ = _ticket(app, request.args.get("upload", ""), _zone(app))
    return _json(
        {
            "held": direct_uploads.held_parts(_store(app), ticket),
            "parts": ticket.parts,
            "partSize": ticket.part_size,
            "size": ticket.size,
        }
    )


@_endpoint
def abort() -> Response:
    """``{"upload"}``: a person cancelled the upload; its parts go now, not at the sweep."""
    app = the_app()
    ticket, _ = _ticket(app, direct.parse_token(_body()))
    direct_uploads.abort_upload(_store(app), ticket)
    return Response(status=204, headers={"Cache-Control": "no-store"})


@_endpoint
def complete() -> Response:
    """``{"upload"}``: the file judged and stored, once (:class:`DirectCompletion`)."""
    app = the_app()
    ticket, _ = _ticket(app, direct.parse_token(_body()), _zone(app))
    return _json(answer([DirectCompletion(app, _store(app), ticket).run()]))

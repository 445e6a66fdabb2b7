"""Fresh signed rules for a page that lives longer than its zone's (:mod:`..zonerules`)."""

from __future__ import annotations

import json

from flask import Response, current_app, request, session

from .. import zonerules
from ..clients import CLIENT_KEY
from ..errors import BadUpload


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

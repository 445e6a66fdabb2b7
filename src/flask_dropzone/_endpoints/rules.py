"""Fresh signed rules for a page that lives longer than its zone's
(:mod:`~flask_dropzone._rules.zonerules`)."""

from __future__ import annotations

import json

from flask import Response, request, session

from .._protocol.clients import CLIENT_KEY
from .._protocol.context import the_app
from .._rules import zonerules
from ..errors import BadUpload


def renew_rules() -> Response:
    """The rules endpoint: a page that lives longer than its zone's signed rules
    (``DROPZONE_CHUNK_EXPIRES``) asks for fresh ones while they still hold; rules that
    expired, or of a zone removed (or, direct, no longer direct) since, are refused (the page
    must be loaded again). Fresh rules are for what the old ones were for."""
    app = the_app()
    rules = zonerules.renewed(app, request.headers.get(zonerules.HEADER), session.get(CLIENT_KEY))
    if rules is None:
        raise BadUpload(zonerules.EXPIRED)
    fresh = {"rules": rules, "expires": zonerules.max_age(app)}
    return Response(
        json.dumps(fresh), mimetype="application/json", headers={"Cache-Control": "no-store"}
    )

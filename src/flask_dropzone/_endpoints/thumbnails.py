"""The thumbnails of the existing files a zone or form field shows (``existing=``, a field's
files from ``obj=``/``data=``): each URL signed for the client the page was made for, read
against today's settings (the app's upload folder, its ``DROPZONE_VARIANTS``) and the file
as it is now (the version signed, not one stored since under its name)."""

from __future__ import annotations

from flask import Response, request, session

from .. import _stores as stores
from .._protocol import variants
from .._protocol.clients import CLIENT_KEY
from .._protocol.context import the_app
from .._protocol.folders import upload_folder
from .._rules import delivery, images
from .._rules.settings import resolve
from ..errors import NotStored


def send_thumbnail() -> Response:
    """``GET /dropzone/thumbnail?t=...``: the thumbnail variant of an existing file, to the
    client its page was made for; anything else is the plain-text 404 of a missing file."""
    app = the_app()
    shown = variants.read_shown(app, request.args.get("t"), session.get(CLIENT_KEY))
    if shown is None:
        raise NotStored()
    try:
        folder = stores.of(app).files.unlabel(shown.folder, upload_folder(resolve(app.config)))
    except ValueError:
        raise NotStored() from None
    return variants.send_variant(
        folder,
        shown.name,
        images.THUMBNAIL,
        delivery.URL_EXPIRES,
        is_version=variants.is_shown_version(app, shown),
    )

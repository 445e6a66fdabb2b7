"""The extension's HTTP surface: every endpoint of its blueprint, and the plain text its
refusals (and Flask-WTF's CSRF errors, and bodies over ``MAX_CONTENT_LENGTH``) are answered in.

=========================  =======================  ====================================
``POST /dropzone/delete``  ``dropzone.delete``      a stored file removed from its zone
``POST /dropzone/cancel``  ``dropzone.cancel``      a chunked upload cancelled
``GET /dropzone/status``   ``dropzone.status``      the chunks held, for a zone resuming
``GET /dropzone/rules``    ``dropzone.rules``       fresh signed rules for a page
``POST /dropzone/pending`` ``dropzone.pending``     a form field's file, kept pending
``.../pending/discard``    ``dropzone.pending_*``   a pending file removed; one sent back
``/dropzone/thumbnail``     ``dropzone.thumbnail``   an existing file's thumbnail, to its page
``/dropzone/direct/...``   ``dropzone.direct_*``    direct uploads (S3 storage only)
=========================  =======================  ====================================
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import FileTooLarge, plain_text
from . import chunked, deletes, pending, rules, thumbnails

#: The direct-upload endpoints (:mod:`.direct`), refused in plain text as the others.
DIRECT_NAMES = ("start", "urls", "complete", "abort", "status")


DIRECT_ENDPOINTS = tuple(f"dropzone.direct_{name}" for name in DIRECT_NAMES)


def register(
    blueprint: Blueprint, delete_checks: Sequence[Callable[[str, str], Any]], direct: bool
) -> None:
    """Add every endpoint to the extension's blueprint (the direct ones with ``direct``: on S3
    storage, where any zone may upload direct)."""
    blueprint.add_url_rule(
        "/dropzone/delete", "delete", lambda: deletes.delete_stored(delete_checks), methods=["POST"]
    )
    blueprint.add_url_rule("/dropzone/cancel", "cancel", chunked.cancel_upload, methods=["POST"])
    blueprint.add_url_rule("/dropzone/status", "status", chunked.upload_status, methods=["GET"])
    blueprint.add_url_rule("/dropzone/rules", "rules", rules.renew_rules, methods=["GET"])
    blueprint.add_url_rule("/dropzone/pending", "pending", pending.receive_files, methods=["POST"])
    blueprint.add_url_rule(
        "/dropzone/pending/discard", "pending_discard", pending.discard, methods=["POST"]
    )
    blueprint.add_url_rule(
        "/dropzone/pending/file", "pending_file", pending.send_file, methods=["GET"]
    )
    blueprint.add_url_rule(
        "/dropzone/thumbnail", "thumbnail", thumbnails.send_thumbnail, methods=["GET"]
    )
    if direct:
        from . import direct as direct_endpoints

        direct_endpoints.register(blueprint)


def plain_upload_errors(app: Flask) -> None:
    """Answer uploads (and deletes from a remove link) refused before the view runs in
    plain text, as Dropzone shows it under the thumbnails: Flask-WTF's CSRF errors, and a
    body over ``MAX_CONTENT_LENGTH`` (Werkzeug's own 413 is an HTML page); unless the app
    handles these errors itself."""
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
        mine = request.endpoint in (
            "dropzone.delete",
            "dropzone.cancel",
            "dropzone.pending_discard",
            *DIRECT_ENDPOINTS,
        )
        return plain_text(error) if is_upload or mine else error

    app.register_error_handler(CSRFError, csrf_error)

"""The delete endpoint: a stored file removed from its zone by its person (``DELETE_ON_REMOVE``)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from flask import Response, request, session

from .. import _stores as stores
from .. import signals
from .._protocol import deletion
from .._protocol.clients import CLIENT_KEY
from .._protocol.context import the_app
from .._protocol.folders import upload_folder
from .._protocol.reporting import STORE_ERRORS, log, store_error
from .._rules import delivery, signing
from .._rules.settings import resolve
from .._rules.zonerules import ZoneGone


def delete_stored(checks: Sequence[Callable[[str, str], Any]]) -> Response:
    """The delete endpoint: a person removed a stored file from its zone. The token says
    which file and zone; today's settings of that zone say whether and until when."""
    app = the_app()
    try:
        claim = deletion.read_token(app, request.form.get("token"), session.get(CLIENT_KEY))
        if not delivery.servable(claim.name):
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
        if version is None or not signing.digest_matches(
            app, deletion.VERSION_PURPOSE, version, claim.version
        ):
            raise deletion.NotYours(
                "There is no such file to delete."
            )  # deleted, or another file since
        if not all(check(claim.name, folder) for check in checks):
            raise deletion.Vetoed("This file cannot be deleted.")
        if not files.delete(folder, claim.name, version):  # that very file, not one stored since
            raise deletion.NotYours("There is no such file to delete.")
    except deletion.DeleteRefused as refused:
        log.info(
            "delete refused, %s: %s (client %s)",
            refused.code,
            refused.description,
            request.remote_addr,
        )
        raise
    except STORE_ERRORS as error:
        raise store_error(error) from error
    signals.file_deleted.send(app, name=claim.name, folder=folder)
    log.info("deleted %r from %r at the client's request", claim.name, folder)
    return Response("Deleted.", mimetype="text/plain")

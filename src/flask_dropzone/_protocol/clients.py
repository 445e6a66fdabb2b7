"""Which browser a request comes from: a random id in its session, that partial uploads,
delete tokens, zone rules and direct tickets are bound to."""

from __future__ import annotations

import re
import secrets

from flask import current_app, session

from .._rules import checks

#: The session key of the random id that partial uploads are filed under.
CLIENT_KEY = "_dropzone_client"


def client_id() -> str:
    """This client's id (in its session): partial uploads are filed under it, so that
    knowing another client's ``dzuuid`` does not let anyone write into its upload."""
    checks.needs_secret_key(current_app, "Chunked uploads (DROPZONE_CHUNKING, or chunking=True)")
    client = session.get(CLIENT_KEY)
    if not isinstance(client, str) or not re.fullmatch(r"[0-9a-f]{32}", client):
        client = session[CLIENT_KEY] = secrets.token_hex(16)
    return client


def forget_client() -> None:
    """Give this browser a new client id at its next upload: what the old one was given
    (partial uploads, resume entries, delete tokens, signed rules) is no longer its own.
    Call it when a person logs out (done for you on Flask-Login's ``user_logged_out``)."""
    session.pop(CLIENT_KEY, None)

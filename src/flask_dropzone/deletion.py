"""Deleting a stored file from its remove link: the token an upload's response carries,
and the checks the delete endpoint makes before the store deletes anything.

The token is signed with the app's secret key (itsdangerous, a salt of its own). It
names the file (its folder as the store names it, or "" for the upload folder, so that
no server path reaches the page), the version stored (a file stored later under the
same name is not deleted by an old token), the client that uploaded it, and the window
in which it may be used; its signature carries the time it was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

from flask import Flask
from itsdangerous import BadData, URLSafeTimedSerializer

from .errors import UploadRefused

#: The response header carrying the delete tokens of the files a request stored.
HEADER = "X-Dropzone-Delete"
_SALT = "flask-dropzone.delete"


class DeleteRefused(UploadRefused):
    """A delete that was not carried out; its message is plain text."""


class BadToken(DeleteRefused):
    code = 400


class NotYours(DeleteRefused):
    """Another client's file, or one deleted already: 404, as if there were none."""

    code = 404


class TooLate(DeleteRefused):
    code = 410


class Vetoed(DeleteRefused):
    code = 403


@dataclass(frozen=True)
class Claim:
    """What a valid token names."""

    folder: str  #: as the store names it; "" for the upload folder
    name: str
    version: Optional[str]
    client: str
    window: float
    made: float  #: when the token was made (seconds since the epoch)


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return URLSafeTimedSerializer([*fallbacks, app.secret_key], salt=_SALT)  # newest key last


def make_token(app: Flask, claim: Claim) -> str:
    payload = {"f": claim.folder, "n": claim.name, "v": claim.version, "c": claim.client, "w": claim.window}
    return _serializer(app).dumps(payload)


def read_token(app: Flask, token: Any, client: Optional[str], now: Optional[float] = None) -> Claim:
    """The claim of a token made by this app for this client within its window; else the
    refusal to answer with."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise BadToken("This file cannot be deleted: its delete token is missing.")
    try:
        payload, made = _serializer(app).loads(token, return_timestamp=True)
        claim = Claim(
            str(payload["f"]), str(payload["n"]), payload["v"], str(payload["c"]), float(payload["w"]),
            made.timestamp(),
        )
    except (BadData, KeyError, TypeError, ValueError):
        raise BadToken("This file cannot be deleted: its delete token is not valid.") from None
    if client is None or claim.client != client:
        raise NotYours("There is no such file to delete.")
    if (time.time() if now is None else now) - claim.made > claim.window:
        raise TooLate("This file was uploaded too long ago to be deleted here.")
    return claim

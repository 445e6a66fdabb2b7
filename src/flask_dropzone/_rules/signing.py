"""What the extension signs into pages and responses: each value for one purpose of one app.

Zone rules, delete tokens and direct-upload tickets are signed with the app's
``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``) by itsdangerous, each under a salt
that names its purpose and the app, so that a value made for one purpose is
nothing for another, and a value made by one app is nothing for another app
that shares the key (an admin tool beside a public site). Every value carries
the time it was made and is read with a maximum age; the client it was made
for is in its payload, checked by its reader.

The app is named by ``DROPZONE_APP_ID``, by default its import name: give two
apps that share a secret key and an import name ids of their own.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from typing import Any, Mapping, Optional

from flask import Flask
from itsdangerous import BadData, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from .settings import SettingError

#: The setting naming the app in every value it signs.
APP_ID = "DROPZONE_APP_ID"


def app_id(app: Flask) -> str:
    return str(app.config.get(APP_ID) or app.import_name)


def check_app_id(config: Mapping[str, Any]) -> None:
    value = config.get(APP_ID)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SettingError(
            f"{APP_ID} must be a non-empty string naming the app, or None, got {value!r}"
        )


def _keys(app: Flask) -> list[Any]:
    return [*(app.config.get("SECRET_KEY_FALLBACKS") or []), app.secret_key]  # newest key last


def serializer(app: Flask, purpose: str) -> Optional[URLSafeTimedSerializer]:
    """The serializer of ``purpose`` for ``app``; None without a secret key."""
    if not app.secret_key:
        return None
    return URLSafeTimedSerializer(_keys(app), salt=f"flask-dropzone.{purpose}|{app_id(app)}")


def digest(app: Flask, purpose: str, value: str, key: Any = None) -> str:
    """A keyed hash of ``value`` (with the newest key, or ``key``): what a page may carry
    to recognise a server fact (a file's inode and time) without learning it."""
    secret = key if key is not None else app.secret_key
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    message = f"flask-dropzone.{purpose}|{app_id(app)}|{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def digest_matches(app: Flask, purpose: str, value: str, found: str) -> bool:
    """Whether ``found`` is :func:`digest` of ``value`` under any of the app's keys."""
    return any(
        hmac.compare_digest(digest(app, purpose, value, key), found) for key in _keys(app) if key
    )


#: The longest signed value read: more is no value this app signed.
LIMIT = 16384
#: A signed value as this app writes it: payload (``.`` first when compressed), time and
#: signature, each in unpadded URL-safe base64.
_SPELLING = re.compile(r"\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+){2}")


def canonical(token: str) -> bool:
    """Whether ``token`` is spelled as the serializer writes it. Its base64 decoder is
    lenient (padding, stray characters and unused bits are ignored), so one value has many
    spellings; a value is compared by its spelling, so only one may be read."""
    if not _SPELLING.fullmatch(token):
        return False
    try:
        return all(
            base64_encode(base64_decode(part)).decode() == part
            for part in token.lstrip(".").split(".")
        )
    except BadData:  # a length no base64 has
        return False


def dumps(
    app: Flask, purpose: str, payload: Mapping[str, Any], client: Optional[str] = None
) -> str:
    """``payload`` signed for ``purpose`` by ``app`` (its salt names both), with the time and,
    given, the ``client`` it is for (``"c"``); needs a secret key."""
    signer = serializer(app, purpose)
    assert signer is not None, "signing needs a secret key"
    return signer.dumps({**payload, "c": client} if client is not None else dict(payload))


def loads(
    app: Flask, purpose: str, token: Any, max_age: Optional[float], client: Any = None
) -> Optional[tuple[dict[str, Any], float]]:
    """The payload of a value this app signed for ``purpose`` (and, given, for ``client``) less
    than ``max_age`` seconds ago (None: a reader that judges the age itself), and when it was
    signed; None for anything else (no secret key, not a string, too long, spelled otherwise
    than it was written, forged, expired, another client's), never an error."""
    signer = serializer(app, purpose)
    if signer is None or not isinstance(token, str) or len(token) > LIMIT or not canonical(token):
        return None
    try:
        age = None if max_age is None else math.ceil(max_age)
        payload, made = signer.loads(token, max_age=age, return_timestamp=True)
    except (BadData, UnicodeDecodeError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or (client is not None and payload.get("c") != client):
        return None
    return payload, made.timestamp()

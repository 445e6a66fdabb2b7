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
from typing import Any, Mapping, Optional

from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from .settings import SettingError

#: The setting naming the app in every value it signs.
APP_ID = "DROPZONE_APP_ID"


def app_id(app: Flask) -> str:
    return str(app.config.get(APP_ID) or app.import_name)


def check_app_id(config: Mapping[str, Any]) -> None:
    value = config.get(APP_ID)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SettingError(f"{APP_ID} must be a non-empty string naming the app, or None, got {value!r}")


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
    return any(hmac.compare_digest(digest(app, purpose, value, key), found) for key in _keys(app) if key)

"""A zone's rules for files, signed into the page and sent back with each upload.

Whoever reads an upload's form first (Flask-WTF's CSRFProtect does, before the
view), the server should refuse a file by the zone's settings while its bytes
arrive, as the browser does. The settings a view gives ``save()`` come too late
for that, so ``config()`` signs the zone's own keywords that judge files (never
a folder or anything else about the server) with the app's secret key, and the
zone sends them back in a header. Only the app can make a valid one; a request
without one is judged when the view asks for its files, as before.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from flask import Flask
from itsdangerous import BadData, URLSafeSerializer

from .settings import Options, SettingError, canonical_keywords, resolve

#: The request header a zone's uploads carry its signed rules in.
HEADER = "X-Dropzone-Zone"
#: The setting keywords that decide, while bytes arrive, whether a file is taken.
RULES = (
    "input_name",
    "max_file_size",
    "allowed_file_custom",
    "allowed_file_type",
    "max_files",
    "upload_multiple",
    "in_form",
    "chunking",
    "chunk_size",
    "chunk_quota",
)
_SALT = "flask-dropzone.zone-rules"


def _serializer(app: Flask) -> Optional[URLSafeSerializer]:
    if not app.secret_key:
        return None
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return URLSafeSerializer([*fallbacks, app.secret_key], salt=_SALT)  # newest key last


def sign(app: Flask, overrides: Mapping[str, Any]) -> Optional[str]:
    """The header value for a zone set up with ``overrides``; None without a secret key
    or when a rule's value is not plain JSON."""
    serializer = _serializer(app)
    if serializer is None:
        return None
    rules = {key: value for key, value in canonical_keywords(overrides, "config()").items() if key in RULES}
    try:
        return serializer.dumps(rules)
    except (TypeError, ValueError):
        return None


def options(app: Flask, token: Optional[str]) -> Optional[Options]:
    """The settings a request's zone was set up with, or None when it sent no valid rules."""
    serializer = _serializer(app)
    if serializer is None or not token:
        return None
    try:
        rules = serializer.loads(token)
    except (BadData, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(rules, dict) or not set(rules) <= set(RULES):
        return None
    try:
        return resolve(app.config, rules, "the zone's signed rules")
    except (SettingError, TypeError):
        return None

"""A zone's rules for files, signed into the page and sent back with each upload.

Whoever reads an upload's form first (Flask-WTF's CSRFProtect does, before the
view), the server should refuse a file by the zone's settings while its bytes
arrive, as the browser does. The settings a view gives ``save()`` come too late
for that, so ``config()`` signs the zone's own keywords that judge files (never
a folder or anything else about the server) with the app's secret key, and the
zone sends them back in a header. Only the app can make a valid one; a request
without one is judged when the view asks for its files, as before.

With ``DROPZONE_S3_DIRECT`` no view runs for a file the browser sends straight to
the bucket, so the zone's rules also carry what a view would have said
(:data:`DIRECT_RULES`): its folder (a key prefix inside ``DROPZONE_S3_PREFIX``,
never a server path), naming policy, remove-link deletes and refusal messages.
These are signed only then, and only :func:`read` returns them: the rules that
judge an upload's form (:func:`options`) are the same as without them. Rules
signed before (without these) stay valid.
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
    "unfinished_uploads",
)
#: The settings also signed for direct uploads (``DROPZONE_S3_DIRECT``), where no view runs.
DIRECT_RULES = (
    "upload_folder",
    "stored_name",
    "delete_on_remove",
    "delete_window",
    "file_too_big",
    "invalid_file_type",
)
_SALT = "flask-dropzone.zone-rules"


def _serializer(app: Flask) -> Optional[URLSafeSerializer]:
    if not app.secret_key:
        return None
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return URLSafeSerializer([*fallbacks, app.secret_key], salt=_SALT)  # newest key last


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def sign(app: Flask, overrides: Mapping[str, Any], direct: bool = False) -> Optional[str]:
    """The header value for a zone set up with ``overrides``; None without a secret key
    or when a rule's value is not plain JSON. ``direct``: with :data:`DIRECT_RULES` too
    (those given; a naming function, which cannot be signed, is left out)."""
    serializer = _serializer(app)
    if serializer is None:
        return None
    keywords = canonical_keywords(overrides, "config()")
    rules = {key: value for key, value in keywords.items() if key in RULES}
    if direct:
        rules.update((key, value) for key, value in keywords.items() if key in DIRECT_RULES and _plain(value))
    try:
        return serializer.dumps(rules)
    except (TypeError, ValueError):
        return None


def _load(app: Flask, token: Optional[str]) -> Optional[tuple[dict[str, Any], Options]]:
    """The keywords a zone signed and the settings they make, or None when ``token`` is
    not valid rules of this app."""
    serializer = _serializer(app)
    if serializer is None or not token:
        return None
    try:
        rules = serializer.loads(token)
    except (BadData, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(rules, dict) or not set(rules) <= set(RULES + DIRECT_RULES):
        return None
    try:
        return rules, resolve(app.config, rules, "the zone's signed rules")
    except (SettingError, TypeError):
        return None


def read(app: Flask, token: Optional[str]) -> Optional[dict[str, Any]]:
    """The keywords a zone signed (:data:`RULES`, and :data:`DIRECT_RULES` where it signed
    them), or None when ``token`` is not valid rules of this app."""
    loaded = _load(app, token)
    return None if loaded is None else loaded[0]


def options(app: Flask, token: Optional[str]) -> Optional[Options]:
    """The settings that judge a request's files, as its zone was set up, or None when it
    sent no valid rules."""
    loaded = _load(app, token)
    if loaded is None:
        return None
    rules, resolved = loaded
    if set(rules) <= set(RULES):  # as every zone signs them without direct uploads
        return resolved
    return resolve(app.config, {key: value for key, value in rules.items() if key in RULES}, "the zone's signed rules")

"""Settings that cannot work, refused when the app starts, naming the setting.

``init_app`` checks what the config says then: the folders (a folder, writable by
the app's user, the chunk folder apart from the upload folder). What the app may
still set after ``init_app`` in a factory (``SECRET_KEY``, its views) is checked
at its first request.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

from flask import Flask

from .settings import (
    ZONES,
    Options,
    SettingError,
    check_folders,
    resolve,
    setting_name,
    zone_keywords,
)

Access = Callable[[str, int], bool]


def check_folder(setting: str, path: str, access: Access = os.access) -> None:
    """``path`` is a folder the process may create files in, or can be created as one."""
    path = os.path.abspath(path)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        where = "" if existing == path else f" ({existing!r} is a file)"
        raise SettingError(f"{setting} ({path!r}) must be a folder{where}.")
    if not access(existing, os.W_OK | os.X_OK):
        verb = "write to it" if existing == path else f"create it in {existing!r}"
        raise SettingError(f"{setting} ({path!r}): the app's user cannot {verb}.")


def check_at_start(upload_folder: str, chunk_folder: str, access: Access = os.access) -> None:
    check_folder(setting_name("upload_folder"), upload_folder, access)
    check_folder(setting_name("chunk_folder"), chunk_folder, access)
    check_folders(upload_folder, chunk_folder)


#: Why chunked and direct uploads need Flask's SECRET_KEY, and how to do without them.
CHUNKED_NEED = "chunked uploads are filed under an id kept in the session", "turn chunking off"
FIELD_NEED = (
    "its files are kept pending for a client whose id is kept in the session, and referenced by "
    "values signed with it",
    "keep the files in the form's own request with DROPZONE_IN_FORM",
)
DIRECT_NEED = (
    "direct uploads are signed with it and filed under an id kept in the session",
    "turn S3_DIRECT off",
)


def needs_secret_key(app: Flask, what: str, need: tuple[str, str] = CHUNKED_NEED) -> None:
    """SettingError naming ``what`` when the app has no secret key; ``need``: why, and the
    way out."""
    if not app.secret_key:
        why, instead = need
        raise SettingError(
            f"{what} needs Flask's SECRET_KEY: {why}. Set SECRET_KEY (or {instead})."
        )


#: The zone settings that need Flask's SECRET_KEY, with why and the way out.
KEY_NEEDS = {
    "chunking": CHUNKED_NEED,
    "delete_on_remove": (
        "each stored file's delete token is signed with it for the client's session",
        "turn DELETE_ON_REMOVE off",
    ),
    "s3_direct": DIRECT_NEED,
}


def check_secret_key(app: Flask, options: Options, where: Optional[str] = None) -> None:
    """SettingError naming the first of the zone's settings that needs the secret key,
    when the app has none; checked before anything is received or stored. ``where``: the
    zone named ("" for the app's own settings; None: a setting or a keyword)."""
    for keyword, need in KEY_NEEDS.items():
        if getattr(options, keyword):
            source = f" (or {keyword}=True)" if where is None else f" ({where})" if where else ""
            needs_secret_key(app, setting_name(keyword) + source, need)


def check_at_first_request(app: Flask, options: Options) -> None:
    """What the app may have set after ``init_app``: its secret key (for the app's settings
    and each named zone's) and its views."""
    check_secret_key(app, options, "")
    for name in app.config.get(ZONES) or {}:
        check_secret_key(
            app,
            resolve(app.config, zone_keywords(app.config, name, ZONES), ZONES),
            f"zone {name!r}",
        )
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for keyword in ("redirect_view", "upload_action"):
        value = getattr(options, keyword)
        # A URL, or a blueprint-relative ".endpoint", cannot be looked up here.
        if not value or value.startswith(("http://", "https://", "/", ".")):
            continue
        if value not in endpoints:
            raise SettingError(
                f"{setting_name(keyword)} names {value!r}, which is not an endpoint of the app."
            )

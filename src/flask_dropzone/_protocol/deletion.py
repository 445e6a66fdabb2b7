"""Deleting a stored file from its remove link: the token an upload's response carries,
and the checks the delete endpoint makes before the store deletes anything.

The token is signed for its purpose and app (:mod:`~flask_dropzone._rules.signing`). It
names the file (its folder by a label relative to the app's settings, never a server path,
and its name),
a keyed hash of the version stored (a file stored later under the same name is not
deleted by an old token; no inode or time reaches the page), the client that uploaded
it, its zone (resolved again when the token is used: a zone that no longer deletes
from its remove link deletes nothing) and the window in which it may be used; its
signature carries the time it was made.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional, Sequence

from flask import Flask, after_this_request, current_app

from .. import _stores as stores
from .._rules import delivery, signing, sniffing
from .._rules.settings import Options, resolve
from .._rules.zonerules import Zone
from ..errors import UploadRefused
from . import variants
from .clients import client_id
from .context import the_app
from .folders import upload_folder
from .reporting import STORE_ERRORS, log
from .uploads import SavedFile

#: The response header carrying the delete tokens of the files a request stored.
HEADER = "X-Dropzone-Delete"
PURPOSE = "delete"
VERSION_PURPOSE = "file-version"
#: The keywords a delete token keeps of its zone: those the delete endpoint decides by.
ZONE_KEYWORDS = ("delete_on_remove", "delete_window")


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

    folder: str  #: the folder's label (:meth:`~.stores.FileStore.label`)
    name: str
    version: str  #: :func:`version_digest` of the stored file's version
    client: str
    window: float  #: seconds after ``made`` it may be used, as its zone said then
    zone: Zone
    made: float = 0.0  #: when the token was made (seconds since the epoch)


def zone_of(zone: Zone) -> Zone:
    """What a token keeps of ``zone``: its name and the keywords deletes are decided by."""
    return Zone(
        zone.name, {key: value for key, value in zone.keywords.items() if key in ZONE_KEYWORDS}
    )


def version_digest(app: Flask, version: str) -> str:
    return signing.digest(app, VERSION_PURPOSE, version)


def make_token(app: Flask, claim: Claim) -> str:
    payload = {
        "f": claim.folder,
        "n": claim.name,
        "v": claim.version,
        "c": claim.client,
        "w": claim.window,
    }
    return signing.dumps(app, PURPOSE, {**payload, **zone_of(claim.zone).payload()})


def read_token(app: Flask, token: Any, client: Optional[str]) -> Claim:
    """The claim of a token made by this app for this client; else the refusal to answer with."""
    if not isinstance(token, str) or not token:
        raise BadToken("This file cannot be deleted: its delete token is missing.")
    read = signing.loads(app, PURPOSE, token, None)  # its age is judged by its window
    try:
        if read is None:
            raise ValueError("not a delete token")
        payload, made = read
        claim = Claim(
            str(payload["f"]),
            str(payload["n"]),
            str(payload["v"]),
            str(payload["c"]),
            float(payload["w"]),
            Zone.from_payload(payload),
            made,
        )
    except (KeyError, TypeError, ValueError):
        raise BadToken("This file cannot be deleted: its delete token is not valid.") from None
    if client is None or claim.client != client:
        raise NotYours("There is no such file to delete.")
    return claim


def check_window(claim: Claim, window: float, now: Optional[float] = None) -> None:
    """TooLate unless the token is younger than ``window`` (the shorter of its own and
    today's zone's)."""
    if (time.time() if now is None else now) - claim.made > min(claim.window, window):
        raise TooLate("This file was uploaded too long ago to be deleted here.")


# Tokens for stored files ----------------------------------------------------------------


def delete_token(app: Flask, folder: str, name: str, options: Options, zone: Zone) -> Optional[str]:
    """The token that lets this client delete the stored file ``name`` of ``folder`` of
    ``zone``; None when no stored file has that name (nothing to delete)."""
    if not delivery.servable(name):
        raise ValueError(
            f"{name!r} cannot be a stored file: give the name it is stored under "
            "(SavedFile.stored_name), not the client's filename or a path"
        )
    files = stores.of(app).files
    version = files.version(folder, name)
    if version is None:
        return None
    label = folder_label(folder)  # no server path on the page
    digest = version_digest(app, version)
    claim = Claim(label, name, digest, client_id(), options.delete_window, zone)
    return make_token(app, claim)


def folder_label(folder: str) -> str:
    """``folder`` as a page may carry it: relative to the app's upload folder."""
    return stores.of(current_app).files.label(folder, upload_folder(resolve(current_app.config)))


def stored_place(item: Any, folder: str) -> Optional[tuple[str, str]]:
    """Where a stored file an app names is (its folder and stored name): a :class:`SavedFile`,
    or a dict with its ``location`` (``dataclasses.asdict()`` of one), where it was stored; a
    dict with a ``name``, in ``folder``; None for anything else."""
    if isinstance(item, SavedFile):
        location: Any = item.location or item.path
    elif isinstance(item, Mapping):
        location = item.get("location")
    else:
        return None
    if isinstance(location, str) and location:
        return stores.of(current_app).files.locate(location)
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        return folder, item["name"]
    return None


def existing_files(
    items: Sequence[Any], options: Options, folder: str, zone: Zone
) -> list[dict[str, Any]]:
    """Files already stored, for a zone to show: what ``save()`` returned (or its
    ``dataclasses.asdict()``), or dicts with ``name`` (a stored name in the zone's
    ``folder``); each may carry ``size``, ``filename`` (the person's name for it, shown
    instead), ``url`` and ``thumbnail``. With ``DELETE_ON_REMOVE`` each gets a delete token,
    signed only for a name that can be a stored file's (``send_stored()``'s rule; another is
    an error) and names one. An image given no ``thumbnail`` gets its thumbnail variant's URL,
    for this client (:mod:`.variants`)."""
    app = the_app()
    thumbnails = variants.shows_thumbnails(app)
    entries = []
    for item in items:
        place = stored_place(item, folder)
        if place is None:
            raise TypeError(
                "existing= takes what save() returned, or dicts with a 'name' or a 'location', "
                f"not {item!r}"
            )
        where, name = place
        given = asdict(item) if isinstance(item, SavedFile) else dict(item)
        entry: dict[str, Any] = {"name": name, "size": int(given.get("size") or 0)}
        entry.update(
            {key: str(given[key]) for key in ("filename", "url", "thumbnail") if given.get(key)}
        )
        token = delete_token(app, where, name, options, zone) if options.delete_on_remove else None
        if token is not None:
            entry["token"] = token
        if thumbnails and "thumbnail" not in entry and _image(name, given.get("mimetype")):
            thumbnail = _thumbnail(app, where, name)
            if thumbnail is not None:
                entry["thumbnail"] = thumbnail
        entries.append(entry)
    return entries


def _image(name: str, mimetype: Any) -> bool:
    """Whether a file an app shows again is an image a variant is made of, by the type
    ``save()`` found (where the app gives it) or its name: nothing is read to tell."""
    found = mimetype if isinstance(mimetype, str) and mimetype else sniffing.type_by_name(name)
    return found in delivery.INLINE_IMAGES


def _thumbnail(app: Flask, folder: str, name: str) -> Optional[str]:
    """The signed URL of the thumbnail of the stored file ``name`` of ``folder``; None when
    there is no such file, or its folder cannot be named to a page."""
    if not delivery.servable(name):
        return None
    files = stores.of(app).files
    try:
        version = files.version(folder, name)
        label = folder_label(folder)
    except ValueError:
        return None
    except STORE_ERRORS as error:  # the page shows the file without a picture
        log.warning("no thumbnail for %r: %s", name, error)
        return None
    return None if version is None else variants.shown_thumbnail(app, label, name, version)


def send_delete_tokens(
    app: Flask, stored: list[SavedFile], folder: str, options: Options, zone: Zone
) -> None:
    """Add to the response a token for each stored file, for its remove link to delete it.
    The files are stored: a store that cannot say a file's version now leaves that file
    without a token (logged), rather than answering an error for a stored file."""
    entries = []
    for saved in stored:
        try:
            token = delete_token(app, folder, saved.stored_name, options, zone)
        except STORE_ERRORS as error:
            log.warning("no delete token for %r: %s", saved.location, error)
            continue
        if token is not None:
            entries.append({"filename": saved.filename, "token": token})
    value = json.dumps(entries)  # ASCII: a header value

    @after_this_request
    def add_tokens(response):
        response.headers[HEADER] = value
        return response

"""Variants of stored files (a thumbnail, ...), the I/O of :mod:`~flask_dropzone._rules.images`:
made once, on the first request for them, from the stored image; kept by the store beside
their file (under a name bound to the file's version and the variant's box, so a file stored
again or a box changed makes a new one); sent as a stored file is. Thumbnails of the existing
files a page shows, signed for its client."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from flask import Flask, Response, url_for

from .. import _stores as stores
from .._rules import delivery, images, signing, sniffing
from .._rules.zonerules import max_age
from ..errors import NotStored
from .clients import client_id
from .context import the_app
from .reporting import log, reading_refusals
from .sending import send_stored


def send_variant(
    folder: str,
    name: str,
    variant: str,
    expires_in: int,
    shown_as: Optional[str] = None,
    is_version: Optional[Callable[[str], bool]] = None,
) -> Response:
    """The variant ``variant`` of the stored file ``name`` of ``folder``, made now if it was
    not yet: a 404 for a name that cannot be a stored file or is none, an unknown variant, a
    file that is no image a variant is made of, and without Pillow. ``is_version``: whether
    the file found is the version a signed value named."""
    app = the_app()
    box = images.variants(app.config).get(variant) if isinstance(variant, str) else None
    if box is None or not delivery.servable(name) or not images.available():
        raise NotStored()
    files = stores.of(app).files
    with reading_refusals():
        version = files.version(folder, name)
        if version is None or (is_version is not None and not is_version(version)):
            raise NotStored()
        place, kept = files.variant_folder(folder, name), images.stored_name(variant, box, version)
        if files.version(place, kept) is None:
            files.put_variant(place, kept, _make(files, folder, name, box))
    stem = (shown_as or name).rpartition(".")[0] or (shown_as or name)
    return send_stored(place, kept, expires_in, shown_as=f"{stem}-{variant}", typed=True)


def _make(files: stores.FileStore, folder: str, name: str, box: images.Box) -> bytes:
    """The variant's bytes, from the stored file; NotStored when it is no image one is
    made of (told by its first bytes, before any is decoded)."""
    with files.open(folder, name) as stream:
        head = stream.read(delivery.HEAD_SIZE)
        if sniffing.type_by_content(head) not in delivery.INLINE_IMAGES:
            raise NotStored()
        stream.seek(0)
        try:
            data, _ = images.make(images.read_source(stream), box)
        except images.NoVariant as error:
            log.info("no variant of %r: %s", name, error)
            raise NotStored() from None
        except ImportError:  # Pillow went missing since start-up
            raise NotStored() from None
    return data


def hint_without_pillow(config: Mapping[str, Any]) -> None:
    """Say once, at start-up, that configured variants need Pillow when it is missing."""
    if images.variants(config) and not images.available():
        log.warning(images.NO_PILLOW)


# Existing files' thumbnails -------------------------------------------------------------


def shown_thumbnail(app: Flask, folder_label: str, name: str, version: str) -> str:
    """The URL of the thumbnail of an existing file, for this client only, on the
    extension's endpoint."""
    digest = signing.digest(app, images.SHOWN_PURPOSE, version)
    token = images.sign_shown(app, images.Shown(client_id(), folder_label, name, digest))
    return url_for("dropzone.thumbnail", t=token)


def shows_thumbnails(app: Flask) -> bool:
    """Whether existing images get a thumbnail by default: a ``thumbnail`` variant, Pillow,
    and a secret key to sign its URL with."""
    return bool(
        app.secret_key and images.THUMBNAIL in images.variants(app.config) and images.available()
    )


def read_shown(app: Flask, token: Any, client: Any) -> Optional[images.Shown]:
    return images.read_shown(app, token, client, max_age(app))


def is_shown_version(app: Flask, shown: images.Shown) -> Callable[[str], bool]:
    return lambda version: signing.digest_matches(app, images.SHOWN_PURPOSE, version, shown.version)

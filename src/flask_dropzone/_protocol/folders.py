"""Where a zone's files and partial uploads live, as the app's store names them."""

from __future__ import annotations

import functools
import os
from typing import Optional

from flask import current_app

from .. import _stores as stores
from .._rules.settings import Options, check_folders
from .._stores import PartialStore


def upload_folder(options: Options, folder: Optional[str] = None) -> str:
    """Where ``save()`` stores files: ``folder``, else the zone's ``upload_folder`` (the app's
    ``DROPZONE_UPLOAD_FOLDER`` unless the zone names its own), as the store names it. A
    relative folder means the same wherever it is given: on disk, in the app's instance folder
    (never the working directory of whoever started the app), in a bucket, a key prefix inside
    ``DROPZONE_S3_PREFIX``; none is ``<instance folder>/uploads``, or the prefix itself."""
    files = stores.of(current_app).files
    chosen = options.upload_folder if folder is None else folder
    if not files.local:
        return files.folder(chosen, "")
    instance = current_app.instance_path
    chosen = None if chosen is None else os.path.join(instance, chosen)
    found = files.folder(chosen, os.path.join(instance, "uploads"))
    _check_apart(found, chunk_folder(options))
    return found


@functools.lru_cache(maxsize=64)
def _check_apart(upload_folder: str, chunk_folder: str) -> None:
    """A zone's folder, where it is first used (the app's own is checked at start-up): the
    chunk folder and the pending files in it are the extension's alone."""
    check_folders(upload_folder, chunk_folder)


def chunk_folder(options: Options) -> str:
    """Where partial uploads live; a relative folder is in the instance folder."""
    return os.path.abspath(
        os.path.join(current_app.instance_path, options.chunk_folder or "dropzone-chunks")
    )


def pending_folder(options: Options, client: str) -> str:
    """The folder of ``client``'s pending files (a form field's): in the app's chunk folder,
    or the store's own prefix in a bucket; pass the app's settings, not a zone's."""
    return stores.of(current_app).files.pending_folder(chunk_folder(options), client)


def chunk_store(options: Options) -> PartialStore:
    return stores.of(current_app).partials(chunk_folder(options))

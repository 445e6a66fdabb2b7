"""Where a zone's files and partial uploads live, as the app's store names them."""

from __future__ import annotations

import functools
import os
from typing import Optional

from flask import current_app

from . import stores
from .settings import Options, check_folders
from .stores import PartialStore


def upload_folder(options: Options, folder: Optional[str] = None) -> str:
    """Where ``save()`` stores files: ``folder``, else the upload folder, as the store names it.
    On disk a relative folder is in the app's instance folder, never in the working
    directory of whoever started the app (in a bucket it is a key prefix inside the prefix)."""
    files = stores.of(current_app).files
    default = os.path.join(current_app.instance_path, options.upload_folder or "uploads")
    if folder is not None and files.local:
        folder = os.path.join(current_app.instance_path, folder)
    found = files.folder(folder, default)
    if files.local:
        _check_apart(found, chunk_folder(options))
    return found


@functools.lru_cache(maxsize=64)
def _check_apart(upload_folder: str, chunk_folder: str) -> None:
    """A zone's folder, where it is first used (the app's own is checked at start-up): the
    chunk folder and the pending files in it are the extension's alone."""
    check_folders(upload_folder, chunk_folder)


def chunk_folder(options: Options) -> str:
    """Where partial uploads live; a relative folder is in the instance folder."""
    return os.path.abspath(os.path.join(current_app.instance_path, options.chunk_folder or "dropzone-chunks"))


def pending_folder(options: Options, client: str) -> str:
    """The folder of ``client``'s pending files (a form field's): in the app's chunk folder,
    or the store's own prefix in a bucket; pass the app's settings, not a zone's."""
    return stores.of(current_app).files.pending_folder(chunk_folder(options), client)


def chunk_store(options: Options) -> PartialStore:
    return stores.of(current_app).partials(chunk_folder(options))

"""The sweep: abandoned partial uploads, direct uploads, pending files nobody claimed and
temporary files of dead processes go, now and then after requests that used them, or on
demand (``flask dropzone clean``, which also removes the variants no request would send)."""

from __future__ import annotations

from typing import Any, Optional

from flask import after_this_request, current_app, g

from .. import _stores as stores
from .._rules import images, pending
from .._rules.settings import Options, resolve
from .._stores import CleanReport, FileStore, PartialStore
from .folders import chunk_folder, chunk_store, upload_folder
from .reporting import STORE_ERRORS, log


def clean(options: Options, expires: float, folders: tuple[str, ...] = ()) -> CleanReport:
    """Remove abandoned partial uploads (direct uploads too, on S3),
    pending files older than ``DROPZONE_PENDING_EXPIRES`` and temporary files of dead
    processes from the upload folder and ``folders``."""
    app_stores = stores.of(current_app)
    folders = (upload_folder(options), *folders)
    kept = (chunk_folder(resolve(current_app.config)), pending.expires(current_app.config))
    report = _sweep(
        chunk_store(options), app_stores.files, folders, expires, kept, app_stores.direct
    )
    report.variants, freed = _stale_variants(app_stores.files, folders)
    report.freed += freed
    return report


def _stale_variants(files: FileStore, folders: tuple[str, ...]) -> tuple[int, int]:
    """Remove the variants no request would send: of a file gone (removed outside the
    extension), stored again since, or made for a box or a variant the app no longer has.
    How many went, and their bytes."""
    boxes = images.variants(current_app.config)
    versions: dict[tuple[str, str], Optional[str]] = {}
    removed = freed = 0
    for folder, name, variant, size in files.kept_variants(folders):
        if (folder, name) not in versions:
            versions[folder, name] = files.version(folder, name)
        version = versions[folder, name]
        if version is None or variant not in {
            images.stored_name(each, box, version) for each, box in boxes.items()
        }:
            files.remove_variant(folder, name, variant)
            removed, freed = removed + 1, freed + size
    return removed, freed


def _sweep(
    store: PartialStore,
    files: FileStore,
    folders: tuple[str, ...],
    expires: float,
    kept: tuple[str, float],
    direct: Any = None,
) -> CleanReport:
    """``kept``: where pending files live (the app's chunk folder) and how long they are kept."""
    report = store.clean(expires)
    removed, freed = files.clean(folders, expires)
    report.temporaries += removed
    report.freed += freed
    removed, freed = files.clean_pending(*kept)
    report.pending_files += removed
    report.freed += freed
    if direct is not None:  # S3Direct: direct uploads started longer than ``expires`` ago
        aborted, freed = direct.clean(expires)
        report.partial_uploads += aborted
        report.freed += freed
    return report


def clean_later(options: Options) -> None:
    """Once in a while, after a request that used the chunk folder or hidden temporary
    files, run :func:`clean` (after the response is sent). Each partial upload expires by
    its own expiry; the rest, by the app's ``CHUNK_EXPIRES``, never the zone's."""
    if g.get("_dropzone_clean"):
        return
    g._dropzone_clean = True
    app_stores = stores.of(current_app)
    store, files, folders = chunk_store(options), app_stores.files, (upload_folder(options),)
    direct = app_stores.direct
    interval = min(options.chunk_expires / 4, 3600)
    expires = resolve(current_app.config).chunk_expires
    kept = (chunk_folder(resolve(current_app.config)), pending.expires(current_app.config))

    def clean_if_due() -> None:  # runs after the response, outside the app context
        try:
            if store.clean_due(interval):
                _sweep(store, files, folders, expires, kept, direct)
        except STORE_ERRORS as error:  # a full disk, a planted entry: the next sweep tries again
            log.error("cleaning up partial uploads failed: %s", error)

    @after_this_request
    def later(response):
        response.call_on_close(clean_if_due)
        return response

"""Where uploads are kept: the store interface, and the stores of each app, built once
in ``init_app`` from its ``DROPZONE_STORAGE`` settings."""

from __future__ import annotations

from typing import Callable, Optional

from flask import Flask

from .._rules.storage_settings import Storage
from .base import (
    COMPLETE,
    EXPIRED,
    REFUSED,
    TOMBSTONE,
    Claim,
    CleanReport,
    DirectStore,
    FileStore,
    HandOver,
    NameLost,
    Partial,
    PartialStore,
    PartsRejected,
    QuotaExceeded,
    Staged,
    StoreBusy,
    Stored,
    StoreFull,
    StoreLimit,
    StoreUnavailable,
    UploadGone,
)

__all__ = [
    "COMPLETE",
    "EXPIRED",
    "REFUSED",
    "TOMBSTONE",
    "Claim",
    "CleanReport",
    "DirectStore",
    "FileStore",
    "HandOver",
    "NameLost",
    "Partial",
    "PartialStore",
    "PartsRejected",
    "QuotaExceeded",
    "Staged",
    "Stored",
    "StoreBusy",
    "StoreFull",
    "StoreLimit",
    "StoreUnavailable",
    "Stores",
    "UploadGone",
    "build",
    "of",
]


class Stores:
    """An app's file store, its partial store for each chunk folder in use, and on S3 its
    direct uploads, for any zone that may send its files straight to the bucket (``s3_direct``;
    ``direct`` is None on disk)."""

    def __init__(
        self,
        settings: Storage,
        files: FileStore,
        partials: Callable[[str], PartialStore],
        direct: Optional[DirectStore] = None,
    ) -> None:
        self.settings = settings
        self.files = files
        self.direct = direct
        self._make_partials = partials
        self._partials: dict[str, PartialStore] = {}

    def partials(self, chunk_folder: str) -> PartialStore:
        store = self._partials.get(chunk_folder)
        if store is None:
            store = self._partials[chunk_folder] = self._make_partials(chunk_folder)
        return store


def build(settings: Storage) -> Stores:
    """The stores the app's storage settings ask for."""
    if settings.kind == "s3":
        from .s3.files import S3Files, client_maker
        from .s3.partials import S3Partials

        assert settings.s3_bucket is not None
        files = S3Files(
            client_maker(settings.s3_endpoint_url), settings.s3_bucket, settings.s3_prefix
        )
        from .s3.direct import S3Direct

        direct = S3Direct(files, S3Partials(files))
        return Stores(settings, files, lambda chunk_folder: S3Partials(files), direct)
    from .disk.files import DiskFiles
    from .disk.partials import DiskPartials

    return Stores(settings, DiskFiles(), DiskPartials)


def of(app: Flask) -> Stores:
    """The stores ``init_app`` built for ``app`` (the current app, through its proxy, too)."""
    app = getattr(app, "_get_current_object", lambda: app)()
    return app.extensions["dropzone"]._stores[app]  # type: ignore[no-any-return]

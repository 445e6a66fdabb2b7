"""Where uploads are kept: the store interface, and the stores of each app, built once
in ``init_app`` from its ``DROPZONE_STORAGE`` settings."""

from __future__ import annotations

from typing import Callable

from flask import Flask

from ..settings import Options

from .base import (
    COMPLETE,
    EXPIRED,
    REFUSED,
    CleanReport,
    FileStore,
    HandOver,
    Partial,
    PartialStore,
    QuotaExceeded,
    Staged,
    Stored,
    StoreBusy,
    StoreFull,
    StoreLimit,
    StoreUnavailable,
)

__all__ = [
    "COMPLETE",
    "EXPIRED",
    "REFUSED",
    "CleanReport",
    "FileStore",
    "HandOver",
    "Partial",
    "PartialStore",
    "QuotaExceeded",
    "Staged",
    "Stored",
    "StoreBusy",
    "StoreFull",
    "StoreLimit",
    "StoreUnavailable",
    "Stores",
    "build",
    "of",
]


class Stores:
    """An app's file store, and its partial store for each chunk folder in use."""

    def __init__(self, files: FileStore, partials: Callable[[str], PartialStore]) -> None:
        self.files = files
        self._make_partials = partials
        self._partials: dict[str, PartialStore] = {}

    def partials(self, chunk_folder: str) -> PartialStore:
        store = self._partials.get(chunk_folder)
        if store is None:
            store = self._partials[chunk_folder] = self._make_partials(chunk_folder)
        return store


def build(options: Options) -> Stores:
    """The stores ``options`` ask for."""
    from .disk import DiskFiles
    from .disk_chunks import DiskChunks

    return Stores(DiskFiles(), DiskChunks)


def of(app: Flask) -> Stores:
    """The stores ``init_app`` built for ``app`` (the current app, through its proxy, too)."""
    app = getattr(app, "_get_current_object", lambda: app)()
    return app.extensions["dropzone"].stores[app]  # type: ignore[no-any-return]

"""``flask dropzone clean``: remove abandoned partial uploads."""

from __future__ import annotations

from typing import Optional

import click
from flask import current_app
from flask.cli import AppGroup

from .receive import chunk_store
from .settings import resolve

dropzone_cli = AppGroup("dropzone", help="Flask-Dropzone maintenance.")


@dropzone_cli.command("clean")
@click.option(
    "--expires",
    type=float,
    default=None,
    help="Remove uploads idle for more than this many seconds (default: DROPZONE_CHUNK_EXPIRES).",
)
def clean(expires: Optional[float]) -> None:
    """Remove partial chunked uploads idle longer than DROPZONE_CHUNK_EXPIRES."""
    options = resolve(current_app.config)
    store = chunk_store(options)
    removed, freed = store.clean(options.chunk_expires if expires is None else expires)
    click.echo(f"Removed {removed} partial upload{'s' if removed != 1 else ''}, freed {freed} bytes.")

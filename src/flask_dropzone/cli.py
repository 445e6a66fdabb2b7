"""``flask dropzone clean``: remove abandoned partial uploads."""

from __future__ import annotations

from typing import Optional

import click
from flask import current_app
from flask.cli import AppGroup

from .receive import clean as clean_uploads
from .settings import resolve

dropzone_cli = AppGroup("dropzone", help="Flask-Dropzone maintenance.")


@dropzone_cli.command("clean")
@click.option(
    "--expires",
    type=float,
    default=None,
    help="Remove uploads idle for more than this many seconds (default: DROPZONE_CHUNK_EXPIRES).",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    help="Another folder given to save() whose stale temporary files to remove (repeatable).",
)
def clean(expires: Optional[float], folders: tuple[str, ...]) -> None:
    """Remove partial chunked uploads idle longer than DROPZONE_CHUNK_EXPIRES, records of
    finished ones, and temporary files of processes that died."""
    options = resolve(current_app.config)
    report = clean_uploads(options, options.chunk_expires if expires is None else expires, folders)
    removed = report.partial_uploads
    line = f"Removed {removed} partial upload{'s' if removed != 1 else ''}"
    if report.temporaries:
        line += f" and {report.temporaries} temporary file{'s' if report.temporaries != 1 else ''}"
    click.echo(f"{line}, freed {report.freed} bytes.")

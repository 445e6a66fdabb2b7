"""``flask dropzone clean``: remove abandoned partial uploads; ``flask dropzone s3-cors``:
let browsers send parts straight to the bucket."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

import click
from flask import current_app
from flask.cli import AppGroup

from ._protocol.reporting import STORE_ERRORS
from ._protocol.sweep import clean as clean_uploads
from ._rules.settings import resolve

dropzone_cli = AppGroup("dropzone", help="Flask-Dropzone maintenance.")


@dropzone_cli.command("clean")
@click.option(
    "--expires",
    type=float,
    default=None,
    help=(
        "The expiry in seconds of direct uploads, temporary files and chunked uploads that "
        "recorded none (default: DROPZONE_CHUNK_EXPIRES); other chunked uploads keep the one "
        "they started with."
    ),
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    help="Another folder given to save() whose stale temporary files to remove (repeatable).",
)
def clean(expires: Optional[float], folders: tuple[str, ...]) -> None:
    """Remove partial chunked uploads idle longer than the DROPZONE_CHUNK_EXPIRES each started
    with, old records of ended ones, direct uploads (S3_DIRECT) started longer ago
    than DROPZONE_CHUNK_EXPIRES, pending files of form fields older than
    DROPZONE_PENDING_EXPIRES, temporary files of processes that died, and the variants
    (thumbnails) of files removed or stored again since, or of a box the app no longer has."""
    options = resolve(current_app.config)
    try:
        report = clean_uploads(
            options, options.chunk_expires if expires is None else expires, folders
        )
    except STORE_ERRORS as error:  # a full disk, an unusable bucket, a planted entry
        raise click.ClickException(f"Cleaning up failed: {error}") from None
    removed = report.partial_uploads
    line = f"Removed {removed} partial upload{'s' if removed != 1 else ''}"
    if report.pending_files:
        line += f", {report.pending_files} pending file{'s' if report.pending_files != 1 else ''}"
    if report.variants:
        line += f", {report.variants} stale variant{'s' if report.variants != 1 else ''}"
    if report.temporaries:
        line += f" and {report.temporaries} temporary file{'s' if report.temporaries != 1 else ''}"
    click.echo(f"{line}, freed {report.freed} bytes.")


#: The request headers a browser's PUT of a part may carry: Content-Type (the file's type,
#: as Dropzone's ``binaryBody`` sends it), Content-Length (set by the browser itself, listed
#: for servers that look for it), a checksum S3 verifies, and the headers Dropzone adds to
#: its requests unless ``defaultHeaders`` is off.
CORS_HEADERS = [
    "content-type",
    "content-length",
    "content-md5",
    "x-amz-checksum-crc32",
    "x-amz-sdk-checksum-algorithm",
    "cache-control",
    "x-requested-with",
]
_ORIGIN = re.compile(r"https?://[^/\s?#]+/?")


def cors_rule(origins: tuple[str, ...]) -> dict[str, Any]:
    """The bucket's CORS rule for direct uploads from the pages of ``origins``."""
    return {
        "AllowedOrigins": list(origins),
        "AllowedMethods": ["PUT"],
        "AllowedHeaders": list(CORS_HEADERS),
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }


@dropzone_cli.command("s3-cors")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help=(
        "The origin (scheme://host[:port]) of the app's pages that upload to the bucket "
        "(repeatable)."
    ),
)
def s3_cors(origins: tuple[str, ...]) -> None:
    """Let browsers on the app's pages PUT parts straight to the bucket (the zones with
    S3_DIRECT): set the bucket's CORS configuration to one rule for those origins. It
    replaces the bucket's CORS rules."""
    from ._stores import StoreUnavailable, of

    bad = [origin for origin in origins if not _ORIGIN.fullmatch(origin)]
    if bad:
        raise click.BadParameter(
            f"{bad[0]!r} is not an origin such as https://app.example.com", param_hint="--origin"
        )
    direct = of(current_app).direct
    if direct is None:
        raise click.UsageError("s3-cors needs DROPZONE_STORAGE = 's3': direct uploads go there")
    rule = cors_rule(tuple(dict.fromkeys(origin.rstrip("/") for origin in origins)))
    try:
        direct.put_cors(rule)
    except StoreUnavailable as error:
        raise click.ClickException(
            f"The bucket's CORS configuration could not be set: {error}"
        ) from None
    click.echo(f"Set the CORS configuration of bucket {direct.bucket!r} to this rule:")
    click.echo(json.dumps(rule, indent=2))

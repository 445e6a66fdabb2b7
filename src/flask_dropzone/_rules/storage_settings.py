"""The app-wide storage settings: which store keeps uploads, and where; and what a zone's
settings need of them.

They are the app's, not a zone's: the stores are built once, in ``init_app``, so
these are settings only, never keywords of ``config()`` or ``save()``.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .settings import Options, SettingError, setting_name

#: Each setting with its default.
DEFAULTS: Mapping[str, Any] = {
    "DROPZONE_STORAGE": "disk",
    "DROPZONE_S3_BUCKET": None,
    "DROPZONE_S3_PREFIX": "",
    "DROPZONE_S3_ENDPOINT_URL": None,
}
#: S3's smallest part but the last: chunks sent to S3 are parts of one multipart upload.
S3_MIN_PART = 5 * 1024 * 1024
#: S3's largest part: a chunk sent straight to the bucket (``s3_direct``) is one part.
S3_MAX_PART = 5 * 1024**3
#: S3's most parts in a multipart upload.
S3_MAX_PARTS = 10_000
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class Storage:
    kind: str = "disk"  #: ``disk`` or ``s3``
    s3_bucket: Optional[str] = None  #: the bucket uploads are stored in (required with ``s3``)
    s3_prefix: str = ""  #: stored files' keys start with it
    s3_endpoint_url: Optional[str] = None  #: None for AWS


def _text(config: Mapping[str, Any], name: str) -> Optional[str]:
    value = config.get(name, DEFAULTS[name])
    if value is not None and not isinstance(value, str):
        raise SettingError(f"{name} must be text, got {value!r}")
    return value


def storage(config: Mapping[str, Any]) -> Storage:
    """The storage settings of ``config``, checked; the error names the setting."""
    kind = _text(config, "DROPZONE_STORAGE")
    if kind not in ("disk", "s3"):
        raise SettingError(f"DROPZONE_STORAGE must be 'disk' or 's3', got {kind!r}")
    if kind == "disk":
        return Storage()
    if importlib.util.find_spec("boto3") is None:
        raise SettingError(
            "DROPZONE_STORAGE = 's3' needs boto3 (the s3 extra): pip install 'boto3>=1.41'"
        )
    bucket = _text(config, "DROPZONE_S3_BUCKET")
    if not bucket:
        raise SettingError(
            "DROPZONE_STORAGE = 's3' needs DROPZONE_S3_BUCKET, the bucket to store uploads in"
        )
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise SettingError(f"DROPZONE_S3_BUCKET {bucket!r} is not a bucket name")
    prefix = _text(config, "DROPZONE_S3_PREFIX") or ""
    if prefix.startswith("/") or any(part in (".", "..") for part in prefix.split("/")[:-1]):
        raise SettingError(f"DROPZONE_S3_PREFIX {prefix!r} must be a key prefix such as 'uploads/'")
    endpoint = _text(config, "DROPZONE_S3_ENDPOINT_URL")
    if endpoint is not None and not re.match(r"https?://[^/\s]+", endpoint):
        raise SettingError(f"DROPZONE_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    return Storage("s3", bucket, prefix, endpoint)


def _named(where: str, keyword: str) -> str:
    """The setting of the app's (``where`` empty), else the keyword given to ``where``."""
    return f"{where} {keyword}" if where else setting_name(keyword)


def check_zone(storage: Storage, options: Options, where: str = "") -> None:
    """What a zone's settings need of the storage, the error naming the setting (``where``
    empty: the app's) or the keyword given to ``where``: direct uploads need S3; on S3 a
    chunk is a part (chunking, and a direct upload's every part), 5 MiB at least but the
    last, and a direct upload's part 5 GiB at most."""
    direct = options.s3_direct and not options.in_form
    if direct and storage.kind != "s3":
        raise SettingError(
            f"{_named(where, 's3_direct')} = True needs DROPZONE_STORAGE = 's3': browsers send "
            "files straight to the bucket"
        )
    size, name = options.chunk_size, _named(where, "chunk_size")
    if storage.kind == "s3" and (options.chunking or direct) and size < S3_MIN_PART:
        raise SettingError(
            f"{name} is {size} bytes; with DROPZONE_STORAGE = 's3' chunks are S3 parts, "
            f"which must be at least {S3_MIN_PART} bytes (5 MiB)"
        )
    if direct and size > S3_MAX_PART:
        raise SettingError(
            f"{name} is {size} bytes; with s3_direct each chunk is an S3 part, "
            f"which must be at most {S3_MAX_PART} bytes (5 GiB)"
        )

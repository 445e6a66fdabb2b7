"""The app-wide storage settings: which store keeps uploads, and where.

They are the app's, not a zone's: the stores are built once, in ``init_app``, so
these are settings only, never keywords of ``config()`` or ``save()``.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .settings import SettingError, _bool

#: Each setting with its default.
DEFAULTS: Mapping[str, Any] = {
    "DROPZONE_STORAGE": "disk",
    "DROPZONE_S3_BUCKET": None,
    "DROPZONE_S3_PREFIX": "",
    "DROPZONE_S3_ENDPOINT_URL": None,
    "DROPZONE_S3_DIRECT": False,
}
#: S3's smallest part but the last: chunks sent to S3 are parts of one multipart upload.
S3_MIN_PART = 5 * 1024 * 1024
#: S3's largest part: a chunk sent straight to the bucket (DROPZONE_S3_DIRECT) is one part.
S3_MAX_PART = 5 * 1024**3
#: S3's most parts in a multipart upload.
S3_MAX_PARTS = 10_000
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class Storage:
    kind: str = "disk"  #: ``disk`` or ``s3``
    s3_bucket: Optional[str] = None
    s3_prefix: str = ""  #: stored files' keys start with it
    s3_endpoint_url: Optional[str] = None  #: None for AWS
    #: Browsers send file bytes straight to the bucket through presigned URLs (``/dropzone/direct/...``).
    s3_direct: bool = False


def _text(config: Mapping[str, Any], name: str) -> Optional[str]:
    value = config.get(name, DEFAULTS[name])
    if value is not None and not isinstance(value, str):
        raise SettingError(f"{name} must be text, got {value!r}")
    return value


def _flag(config: Mapping[str, Any], name: str) -> bool:
    try:
        return _bool(config.get(name, DEFAULTS[name]))
    except ValueError as error:
        raise SettingError(f"{name} {error}") from None


def storage(config: Mapping[str, Any]) -> Storage:
    """The storage settings of ``config``, checked; the error names the setting."""
    kind = _text(config, "DROPZONE_STORAGE")
    if kind not in ("disk", "s3"):
        raise SettingError(f"DROPZONE_STORAGE must be 'disk' or 's3', got {kind!r}")
    direct = _flag(config, "DROPZONE_S3_DIRECT")
    if direct and kind != "s3":
        raise SettingError(
            "DROPZONE_S3_DIRECT = True needs DROPZONE_STORAGE = 's3': browsers send files "
            "straight to the bucket"
        )
    if kind == "disk":
        return Storage()
    if importlib.util.find_spec("boto3") is None:
        raise SettingError("DROPZONE_STORAGE = 's3' needs boto3 (the s3 extra): pip install 'boto3>=1.41'")
    bucket = _text(config, "DROPZONE_S3_BUCKET")
    if not bucket:
        raise SettingError("DROPZONE_STORAGE = 's3' needs DROPZONE_S3_BUCKET, the bucket to store uploads in")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise SettingError(f"DROPZONE_S3_BUCKET {bucket!r} is not a bucket name")
    prefix = _text(config, "DROPZONE_S3_PREFIX") or ""
    if prefix.startswith("/") or any(part in (".", "..") for part in prefix.split("/")[:-1]):
        raise SettingError(f"DROPZONE_S3_PREFIX {prefix!r} must be a key prefix such as 'uploads/'")
    endpoint = _text(config, "DROPZONE_S3_ENDPOINT_URL")
    if endpoint is not None and not re.match(r"https?://[^/\s]+", endpoint):
        raise SettingError(f"DROPZONE_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    return Storage("s3", bucket, prefix, endpoint, direct)


def check_chunk_size(storage: Storage, chunking: bool, chunk_size: int, where: str) -> None:
    """S3 keeps each chunk as a part: a chunk (but the last) of at least 5 MiB. With
    ``DROPZONE_S3_DIRECT`` every zone's chunk size is its part size, chunking or not, and
    a part is at most 5 GiB."""
    if storage.kind == "s3" and (chunking or storage.s3_direct) and chunk_size < S3_MIN_PART:
        raise SettingError(
            f"{where} is {chunk_size} bytes; with DROPZONE_STORAGE = 's3' chunks are S3 parts, "
            f"which must be at least {S3_MIN_PART} bytes (5 MiB)"
        )
    if storage.s3_direct and chunk_size > S3_MAX_PART:
        raise SettingError(
            f"{where} is {chunk_size} bytes; with DROPZONE_S3_DIRECT each chunk is an S3 part, "
            f"which must be at most {S3_MAX_PART} bytes (5 GiB)"
        )

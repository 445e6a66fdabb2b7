"""What the S3 store's objects say of themselves in their user metadata, the plain logic:
a name held for an upload (an empty placeholder naming the upload's nonce) is no stored
file, and every published object has an id of its own, its version."""

from __future__ import annotations

import secrets
from typing import Any, Mapping

#: User metadata: the nonce of the upload a placeholder holds its name for, and the id of
#: a published object (equal bytes stored again under a freed name get another).
HELD, ID = "fdz-held", "fdz-id"
#: User metadata of a direct upload's file rewritten without its image metadata: the size the
#: upload completed it with (a completion sent again knows its file by it).
STRIPPED = "fdz-stripped"
#: The ETag of an empty object.
EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"
#: The sizes of a placeholder: empty, or its upload's nonce (see :func:`new_id`).
PLACEHOLDER_SIZES = (0, 32)


def new_id() -> str:
    """A random nonce: an upload's mark on the name it holds, a published object's id, and
    the body of each write that arbitrates between requests (an ETag is the MD5 of the
    body, so that an overwrite conditional on the ETag read is a compare-and-swap)."""
    return secrets.token_hex(16)


def placeholder(head: Mapping[str, Any]) -> bool:
    """Whether ``head`` (what HEAD answered) is a name held for an upload, not a stored file."""
    return HELD in (head.get("Metadata") or {})


def held_by(head: Mapping[str, Any], nonce: str) -> bool:
    """Whether ``head`` is the placeholder of the upload ``nonce``; one left unmarked (held
    before placeholders said whose they are) is an empty object without an id."""
    meta = head.get("Metadata") or {}
    if HELD in meta:
        return bool(meta[HELD] == nonce)
    return ID not in meta and int(head.get("ContentLength", -1)) == 0


def made_for(head: Mapping[str, Any], nonce: str) -> bool:
    """Whether ``head`` is the file the upload ``nonce`` completed at its key; one completed
    before files had ids is any non-empty object there but a placeholder."""
    meta = head.get("Metadata") or {}
    if ID in meta:
        return bool(nonce) and meta[ID] == nonce
    return HELD not in meta and str(head.get("ETag", "")).strip('"') != EMPTY_ETAG

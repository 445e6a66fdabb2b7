"""The marker of a chunked upload in S3, the plain logic: what its body says of the upload
(open, handed over, ended) and what a listing of markers tells without reading them.

The marker (``_dropzone/pending/<client>/<dzuuid>.<size>[.<expiry in ms>]``) is the one
object whose state changes in an upload's life, each change a compare-and-swap on the
ETag of the body before it:

- open: JSON naming the request that started the upload (its nonce, the chunk it
  carried, when, and the name it meant to hold), written once, create-only;
- handed over: JSON naming the request that holds the hand-over (its nonce, its chunk
  and when it took it), which a give-back turns into the open body again;
- ended: the word ``complete``, ``expired`` or ``refused <status>``, kept while late
  chunks come (each rewrites it), for the sweep to forget after its lifetime.

A listing gives each marker's size but not its body: an ended marker is a short word,
each state's word of its own length, so the quota and the sweep tell ended uploads from
open ones (JSON, longer; or empty, the marker of an upload started before markers had
bodies) by size alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from ..base import COMPLETE, EXPIRED, REFUSED

#: A refusal's word (``refused 415``) has a status of three digits.
_REFUSED_LENGTH = len(f"{REFUSED} 415")
#: The state an ended marker's size tells.
_BY_SIZE = {len(COMPLETE): COMPLETE, len(EXPIRED): EXPIRED, _REFUSED_LENGTH: REFUSED}
assert len(_BY_SIZE) == 3, "each ended state's word must have a length of its own"
#: Under this size a marker is an ended upload's word; an open or handed-over one's JSON is longer.
_WORDS_UNDER = 16


@dataclass(frozen=True)
class Said:
    """What a marker's body says: ``state`` (None while open or handed over), the refusal's
    status, and for a hand-over the chunk holding it (``holder``; None while open)."""

    state: Optional[str] = None
    refusal: Optional[int] = None
    holder: Optional[int] = None

    @property
    def handed_over(self) -> bool:
        return self.state is None and self.holder is not None


def open_body(
    nonce: str, index: int, at: float, folder: Optional[str], name: Optional[str]
) -> bytes:
    """The body of an open upload's marker: who started it, and the name it meant to hold
    (``folder`` and ``name``, None for none), for whoever cleans up a start that died."""
    said = {"nonce": nonce, "index": index, "at": round(at, 3), "folder": folder, "name": name}
    return json.dumps(said, sort_keys=True).encode()


def hand_over_body(nonce: str, index: int, at: float) -> bytes:
    return json.dumps({"claim": nonce, "index": index, "at": round(at, 3)}, sort_keys=True).encode()


def ended_body(state: str, refusal: Optional[int] = None) -> bytes:
    return (f"{state} {refusal}" if state == REFUSED else state).encode()


def said(body: bytes) -> Said:
    """What ``body`` says; an empty body (a marker from before markers had bodies) is open."""
    text = body.decode("utf-8", "replace").strip()
    if not text.startswith("{"):
        word, _, detail = text.partition(" ")
        if word in (COMPLETE, EXPIRED, REFUSED):
            return Said(word, int(detail) if word == REFUSED and detail.isdigit() else None)
        return Said()
    record = json.loads(text)
    return Said(holder=int(record.get("index", -1))) if "claim" in record else Said()


def started(body: bytes) -> dict:
    """What an open marker says of its start: ``nonce``, ``index``, ``at``, ``folder``, ``name``."""
    text = body.decode("utf-8", "replace").strip()
    return json.loads(text) if text.startswith("{") else {}


def listed_open(size: int) -> bool:
    """Whether a marker of ``size`` bytes (as a listing gives it) is an open upload's."""
    return size == 0 or size >= _WORDS_UNDER


def listed_state(size: int) -> Optional[str]:
    """The state an ended marker's ``size`` tells (None: the upload is open)."""
    return None if listed_open(size) else _BY_SIZE.get(size, EXPIRED)

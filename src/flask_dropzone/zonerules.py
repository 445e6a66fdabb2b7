"""A zone's rules for files, signed into the page and sent back with each upload.

Whoever reads an upload's form first (Flask-WTF's CSRFProtect does, before the
view), the server should refuse a file by the zone's settings while its bytes
arrive, as the browser does. The settings a view gives ``save()`` come too late
for that, so ``config()`` signs which zone the page shows (:class:`Zone`) and
the zone sends it back in a header.

What the page carries grants no more than the server would decide now:

- a named zone (``DROPZONE_ZONES``) travels by name and is resolved from today's
  settings whenever it is used: a tightened zone applies at once, a removed one
  is refused;
- a zone set up by keywords carries those keywords that judge files (:data:`RULES`),
  and with ``DROPZONE_S3_DIRECT``, where no view runs, what a view would have said
  (:data:`DIRECT_RULES`: its folder, naming policy, deletes and messages), resolved
  over today's app settings;
- the value names its purpose and app (:mod:`.signing`), the client it was made for
  (the id in its session) and its time; it expires after the app's
  ``DROPZONE_CHUNK_EXPIRES`` (a page that lives longer renews it at
  ``/dropzone/rules`` while it is valid).

A request without valid rules is judged by its view, as before; direct uploads,
which have no view, are refused.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from flask import Flask
from itsdangerous import BadData

from . import signing
from .settings import ZONES, Options, SettingError, canonical_keywords, resolve

#: The request header a zone's uploads carry its signed rules in.
HEADER = "X-Dropzone-Zone"
#: The setting keywords that decide, while bytes arrive, whether a file is taken.
RULES = (
    "input_name",
    "max_file_size",
    "allowed_file_custom",
    "allowed_file_type",
    "max_files",
    "upload_multiple",
    "in_form",
    "chunking",
    "chunk_size",
    "chunk_quota",
    "chunk_expires",  # how long its partial uploads are kept
    "unfinished_uploads",
)
#: The settings also signed for direct uploads (``DROPZONE_S3_DIRECT``), where no view runs.
DIRECT_RULES = (
    "upload_folder",
    "stored_name",
    "delete_on_remove",
    "delete_window",
    "file_too_big",
    "invalid_file_type",
    "content_mismatch",
)
PURPOSE = "zone-rules"
#: What a request whose rules expired (or name a zone removed since) is told.
EXPIRED = "This page's upload settings have expired; reload the page."


class ZoneGone(LookupError):
    """The named zone is no longer in ``DROPZONE_ZONES``, or its keywords no longer resolve."""


@dataclass(frozen=True)
class Zone:
    """A zone as the server knows it: the named zone ``name`` of ``DROPZONE_ZONES`` (None
    for none), with ``keywords`` given over it (by ``config()``, ``save()``)."""

    name: Optional[str] = None
    keywords: Mapping[str, Any] = field(default_factory=dict)

    def settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The zone's keywords today: the named zone's, then the keywords over them."""
        if self.name is None:
            return dict(self.keywords)
        zones = config.get(ZONES) or {}
        if self.name not in zones:
            raise ZoneGone(f"no zone {self.name!r} in {ZONES}")
        return {**canonical_keywords(zones[self.name], f"{ZONES}[{self.name!r}]"), **self.keywords}

    def options(self, config: Mapping[str, Any]) -> Options:
        """Its settings as today's config makes them; ZoneGone when they cannot be made."""
        try:
            return resolve(config, self.settings(config), self.where)
        except (SettingError, TypeError) as error:
            raise ZoneGone(str(error)) from None

    @property
    def where(self) -> str:
        return f"zone {self.name!r}" if self.name is not None else "the zone's signed rules"

    @property
    def key(self) -> str:
        """A stable name of the zone (not a secret): a browser keys what it remembers by it."""
        text = json.dumps([self.name, dict(self.keywords)], sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def payload(self) -> dict[str, Any]:
        return {"z": self.name, "k": dict(self.keywords)}

    @classmethod
    def from_payload(cls, payload: Any) -> "Zone":
        """The zone a decoded payload names; ValueError when it names none."""
        if not isinstance(payload, dict):
            raise ValueError("not a zone")
        name, keywords = payload.get("z"), payload.get("k")
        if (name is not None and not isinstance(name, str)) or not isinstance(keywords, dict):
            raise ValueError("not a zone")
        if not set(keywords) <= set(RULES + DIRECT_RULES):
            raise ValueError("not a zone's rules")
        return cls(name, keywords)


#: No named zone, no keywords: the app's own settings.
NO_ZONE = Zone()


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def signed(name: Optional[str], overrides: Mapping[str, Any], direct: bool = False) -> Zone:
    """The zone to sign for a zone shown as ``name`` (a named zone, or None) with keywords
    ``overrides``: only those that judge files (:data:`RULES`), and with ``direct`` those
    of :data:`DIRECT_RULES` that can be signed (a naming function cannot)."""
    keys = RULES + DIRECT_RULES if direct else RULES
    keywords = canonical_keywords(overrides, "config()")
    return Zone(name, {key: value for key, value in keywords.items() if key in keys and _plain(value)})


def max_age(app: Flask) -> float:
    """How long signed rules hold: the app's ``DROPZONE_CHUNK_EXPIRES``."""
    return resolve(app.config).chunk_expires


def sign(app: Flask, zone: Zone, client: str) -> Optional[str]:
    """The header value for ``zone`` shown to ``client``; None without a secret key."""
    serializer = signing.serializer(app, PURPOSE)
    if serializer is None:
        return None
    return serializer.dumps({**zone.payload(), "c": client})


def load(app: Flask, token: Optional[str], client: Any) -> Optional[Zone]:
    """The zone of rules this app signed for ``client`` no longer ago than :func:`max_age`,
    if it is still a zone today; None for anything else."""
    serializer = signing.serializer(app, PURPOSE)
    if serializer is None or not token or not isinstance(client, str) or len(token) > 16384:
        return None
    try:
        payload = serializer.loads(token, max_age=math.ceil(max_age(app)))
        zone = Zone.from_payload(payload)
    except (BadData, ValueError, TypeError, UnicodeDecodeError):
        return None
    if payload.get("c") != client:
        return None
    try:
        zone.options(app.config)
    except ZoneGone:
        return None
    return zone


def options(app: Flask, token: Optional[str], client: Any) -> Optional[Options]:
    """The settings that judge a request's files, as its zone is set up today, or None
    when it sent no valid rules."""
    zone = load(app, token, client)
    return None if zone is None else zone.options(app.config)

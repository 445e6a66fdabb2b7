"""A zone's rules for files, signed into the page and sent back with each upload.

Whoever reads an upload's form first (Flask-WTF's CSRFProtect does, before the
view), the server should refuse a file by the zone's settings while its bytes
arrive, as the browser does. The settings a view gives ``save()`` come too late
for that, so ``config()`` signs which zone the page shows (:class:`Zone`) and
the zone sends it back in a header.

What the page carries grants no more than the server would decide now:

- the rules name what the zone is for, each purpose under its own salt, so that rules
  signed for one are nothing for another: :data:`VIEW` rules judge files before the
  view their zone posts to (in-form zones too), :data:`DIRECT` rules start direct
  uploads (``s3_direct``). A form field's uploads carry none: its ticket
  (:mod:`.pending`) names its zone, for its own endpoint only;
- a named zone (``DROPZONE_ZONES``) travels by name and is resolved from today's
  settings whenever it is used: a tightened zone applies at once, a removed one
  is refused, and direct rules of a zone that no longer uploads direct are refused;
- a zone set up by keywords carries those keywords that judge files (:data:`RULES`),
  and, for direct uploads, where no view runs, what a view would have said
  (:data:`MESSAGES`, :data:`DIRECT_RULES`: its folder, naming policy and deletes),
  resolved over today's app settings;
- the value names its app (:mod:`.signing`), the client it was made for (the id in
  its session) and its time; it expires after the app's ``DROPZONE_CHUNK_EXPIRES``
  (a page that lives longer renews it at ``/dropzone/rules`` while it is valid).

A request without valid rules is judged by its view, as before; direct uploads,
which have no view, are refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from flask import Flask

from . import signing, storage_settings
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
    "strip_metadata",  # refuses the images it cannot strip
)
#: The refusals' words, signed where no view runs to say them.
MESSAGES = ("file_too_big", "invalid_file_type", "content_mismatch")
#: What else a view would have decided, signed for direct uploads (``s3_direct``).
DIRECT_RULES = ("upload_folder", "stored_name", "delete_on_remove", "delete_window", "s3_direct")
#: What a zone's uploads are for: a view of the app (in-form zones too), or the bucket; and
#: a form field's pending files, whose zone only its ticket carries (:mod:`.pending`).
VIEW, DIRECT, FIELD = "view", "direct", "field"
#: Each purpose's salt of rules (:mod:`.signing`): a field has no rules to sign.
SALTS = {VIEW: "view-zone", DIRECT: "direct-zone"}
#: The keywords each purpose signs.
SIGNED = {VIEW: RULES, DIRECT: RULES + MESSAGES + DIRECT_RULES, FIELD: RULES + MESSAGES}
#: Every keyword a zone's rules may carry (a ticket's or a token's zone).
SIGNED_ANY = SIGNED[DIRECT]
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
    def from_payload(cls, payload: Any, keys: Sequence[str] = SIGNED_ANY) -> "Zone":
        """The zone a decoded payload names, of the keywords ``keys``; ValueError when it
        names none."""
        if not isinstance(payload, dict):
            raise ValueError("not a zone")
        name, keywords = payload.get("z"), payload.get("k")
        if (name is not None and not isinstance(name, str)) or not isinstance(keywords, dict):
            raise ValueError("not a zone")
        if not set(keywords) <= set(keys):
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


def signed(name: Optional[str], overrides: Mapping[str, Any], purpose: str) -> Zone:
    """The zone to sign for a zone shown as ``name`` (a named zone, or None) with keywords
    ``overrides``, for ``purpose``: only those keywords its rules carry (:data:`SIGNED`)
    that can be signed (a naming function cannot)."""
    keys = SIGNED[purpose]
    keywords = canonical_keywords(overrides, "config()")
    return Zone(
        name, {key: value for key, value in keywords.items() if key in keys and _plain(value)}
    )


def max_age(app: Flask) -> float:
    """How long signed rules hold: the app's ``DROPZONE_CHUNK_EXPIRES``."""
    return resolve(app.config).chunk_expires


def goes_direct(app: Flask, options: Options) -> bool:
    """Whether a zone of ``options`` sends its files straight to the bucket: ``s3_direct``
    with S3 storage, unless it is in a form (its files go with the form, to its view)."""
    return (
        options.s3_direct
        and not options.in_form
        and storage_settings.storage(app.config).kind == "s3"
    )


def sign(app: Flask, zone: Zone, client: str, purpose: str) -> Optional[str]:
    """The header value for ``zone`` shown to ``client``, for ``purpose``; None without a
    secret key."""
    if not app.secret_key:
        return None
    return signing.dumps(app, SALTS[purpose], zone.payload(), client)


def load(app: Flask, token: Optional[str], client: Any, purpose: str) -> Optional[Zone]:
    """The zone of rules this app signed for ``client`` and ``purpose`` no longer ago than
    :func:`max_age`, if it is still a zone today (for :data:`DIRECT`, one that uploads
    direct); None for anything else."""
    read = (
        signing.loads(app, SALTS[purpose], token, max_age(app), client)
        if isinstance(client, str)
        else None
    )
    if read is None:
        return None
    try:
        zone = Zone.from_payload(read[0], SIGNED[purpose])
    except (ValueError, TypeError):
        return None
    try:
        options = zone.options(app.config)
    except ZoneGone:
        return None
    if purpose == DIRECT and not goes_direct(app, options):
        return None
    return zone


def renewed(app: Flask, token: Optional[str], client: Any) -> Optional[str]:
    """Fresh rules for the same zone and purpose as ``token``, if it still holds; else None."""
    for purpose in SALTS:
        zone = load(app, token, client, purpose)
        if zone is not None:
            return sign(app, zone, client, purpose)
    return None


def options(app: Flask, token: Optional[str], client: Any) -> Optional[Options]:
    """The settings that judge a request's files before its view, as its zone is set up
    today, or None when it sent no valid rules for a view."""
    zone = load(app, token, client, VIEW)
    return None if zone is None else zone.options(app.config)

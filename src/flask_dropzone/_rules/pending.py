"""Pending files, the plain logic: what a form field's page and its uploads carry.

A :class:`~.forms.DropzoneField` uploads each file as it is dropped to the extension's
pending endpoint, which keeps it in the store's pending area and answers a
*reference*; the form carries only references. Three signed values, each for its
purpose, app (:mod:`.signing`), client and time:

- the field's *ticket*, in the page (and in the form, for a browser without JavaScript):
  which field of which form (its binding and its input's name) and its zone; files are
  taken only with it, judged by the zone of today while they arrive;
- a file's *reference*, one per pending file: the field it was uploaded for, the
  pending file's id, and the facts the server found (the client's name, the size, the
  type from the content);
- a *kept* value per stored file the field shows: the person kept it.

A value older than ``DROPZONE_PENDING_EXPIRES``, another client's or another field's is
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from flask import Flask

from . import signing
from .settings import SettingError, _size_seconds
from .zonerules import FIELD, SIGNED, Zone

#: The app's setting: seconds a pending file is kept, and its reference holds.
EXPIRES = "DROPZONE_PENDING_EXPIRES"
DEFAULT_EXPIRES = 24 * 60 * 60
#: The request header the field's uploads carry its ticket in.
HEADER = "X-Dropzone-Field"
#: The endpoint that takes them, the one the ticket is read by.
ENDPOINT = "dropzone.pending"
FIELD_PURPOSE, REFERENCE_PURPOSE, KEPT_PURPOSE = "form-field", "pending-file", "kept-file"
#: The form input that carries a field's ticket, for its files posted without JavaScript.
TICKET_INPUT = "dropzone-field"
#: A pending file's id: its name in the pending area.
PENDING_ID = re.compile(r"[0-9a-f]{32}")
#: What a field says of a reference that is no file (forged, expired, claimed, another's).
NOT_KEPT = "A file of this field was not kept; add the file again."


def expires(config: Mapping[str, Any]) -> float:
    value = config.get(EXPIRES, DEFAULT_EXPIRES)
    try:
        return _size_seconds(value)
    except ValueError as error:
        raise SettingError(f"{EXPIRES} {error}") from None


@dataclass(frozen=True)
class Ticket:
    """Which field a page shows: ``binding`` names the form and field, ``zone`` its settings,
    ``name`` the input its files are posted as without JavaScript."""

    client: str
    binding: str
    zone: Zone
    name: str = ""


@dataclass(frozen=True)
class Reference:
    """One pending file of a field, as the server found it."""

    client: str
    binding: str
    id: str  #: its name in the client's pending folder
    filename: str  #: the client's name for it
    size: int
    mimetype: str  #: from its content where that can be told
    made: float = 0.0


def sign_ticket(app: Flask, ticket: Ticket) -> str:
    payload = {"b": ticket.binding, "n": ticket.name, **ticket.zone.payload()}
    return signing.dumps(app, FIELD_PURPOSE, payload, ticket.client)


def read_ticket(app: Flask, token: Any, client: Any) -> Optional[Ticket]:
    """The ticket this app signed for ``client`` less than ``DROPZONE_PENDING_EXPIRES`` ago."""
    if not isinstance(client, str):  # a session without a client id has no values
        return None
    found = signing.loads(app, FIELD_PURPOSE, token, expires(app.config), client)
    if found is None:
        return None
    payload = found[0]
    try:
        return Ticket(
            client, str(payload["b"]), Zone.from_payload(payload, SIGNED[FIELD]), str(payload["n"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def sign_reference(app: Flask, reference: Reference) -> str:
    payload = {
        "b": reference.binding,
        "i": reference.id,
        "n": reference.filename,
        "s": reference.size,
        "t": reference.mimetype,
    }
    return signing.dumps(app, REFERENCE_PURPOSE, payload, reference.client)


def read_reference(
    app: Flask, token: Any, client: Any, binding: Optional[str] = None
) -> Optional[Reference]:
    """The reference this app signed for ``client`` (and the field ``binding``, if given) less
    than ``DROPZONE_PENDING_EXPIRES`` ago; None for anything else."""
    if not isinstance(client, str):
        return None
    read = signing.loads(app, REFERENCE_PURPOSE, token, expires(app.config), client)
    if read is None:
        return None
    payload, made = read
    try:
        found = Reference(
            client,
            str(payload["b"]),
            str(payload["i"]),
            str(payload["n"]),
            int(payload["s"]),
            str(payload["t"]),
            made,
        )
    except (KeyError, TypeError, ValueError):
        return None
    if not PENDING_ID.fullmatch(found.id) or found.size < 0:
        return None
    if binding is not None and found.binding != binding:
        return None
    return found


def sign_kept(app: Flask, client: str, binding: str, key: str) -> str:
    """The value a form carries for an existing file of the field while its person keeps it."""
    return signing.dumps(app, KEPT_PURPOSE, {"b": binding, "k": key}, client)


def read_kept(app: Flask, token: Any, client: Any, binding: str) -> Optional[str]:
    """The key of an existing file the form sent back as kept, if the value is this field's."""
    found = (
        signing.loads(app, KEPT_PURPOSE, token, expires(app.config), client)
        if isinstance(client, str)
        else None
    )
    if found is None or found[0].get("b") != binding:
        return None
    return str(found[0].get("k"))

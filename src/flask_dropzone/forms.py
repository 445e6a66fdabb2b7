"""``DropzoneField``: a Flask-WTF form field whose files upload as they are dropped, survive a
form that comes back with errors, and are stored when the view claims them.

Each file goes to the extension's pending endpoint while the person fills in the form,
judged by the field's settings (``config()``'s keywords, or a named zone) as it arrives,
and is kept pending (:mod:`.pending_files`); the form carries only a reference per file.
On submit the field's ``data`` is a list of :class:`~.pending_files.PendingFile` (Werkzeug
``FileStorage`` objects read from the store), so Flask-WTF's ``FileRequired``,
``FileAllowed`` and ``FileSize`` judge them; ``claim()`` stores them, once. A browser without
JavaScript posts the files themselves with the form: they become pending files too.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any, Optional, Sequence

from flask import current_app, session, url_for
from itsdangerous import BadData
from markupsafe import Markup, escape
from werkzeug.datastructures import FileStorage
from wtforms import Field

from . import checks, deletion, pending, pending_files, render, signals, signing, stores, zonerules
from .clients import CLIENT_KEY, client_id
from .errors import UploadRefused
from .filenames import stored_name
from .folders import upload_folder
from .messages import fill
from .settings import ZONES, Options, canonical_keywords, check_keywords, zone_keywords
from .uploads import SavedFile
from .zonerules import Zone

#: WTForms' own keywords of a field (the others are the zone's settings).
_FIELD_KEYWORDS = frozenset(inspect.signature(Field.__init__).parameters) - {"self"}
KEPT_PURPOSE = "kept-file"


def _settings(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """WTForms' keywords and the zone's settings, checked as ``config()`` checks them."""
    own = {key: value for key, value in kwargs.items() if key in _FIELD_KEYWORDS}
    settings = canonical_keywords({k: v for k, v in kwargs.items() if k not in _FIELD_KEYWORDS}, "DropzoneField()")
    return own, settings


class DropzoneField(Field):
    """A zone inside the form (``{{ form.photos() }}``): its files upload as they are dropped
    and are claimed by the view (:meth:`claim`). ``zone`` names a zone of
    ``DROPZONE_ZONES``; the other keywords are ``config()``'s (``allowed_file_type``,
    ``max_files``, ``max_file_size``, ``chunking``, ...), over the zone's."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_form" not in kwargs:
            # a typo or a value out of range fails where the form is defined
            settings = {k: v for k, v in kwargs.items() if k != "zone" and k not in _FIELD_KEYWORDS}
            check_keywords(settings, "DropzoneField()", form_field=True)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, label: Any = None, validators: Any = None, *, zone: Optional[str] = None, **kwargs: Any) -> None:
        own, self.settings = _settings(kwargs)
        form = own.get("_form")
        super().__init__(label, validators, **own)
        self.zone_name = zone
        self.binding = f"{type(form).__module__}.{type(form).__qualname__}.{self.name}"
        #: Files stored before (what ``claim()`` or ``save()`` returned, or dicts as for
        #: ``config(existing=...)``), shown in the zone; set it before rendering.
        self.existing: Sequence[Any] = ()
        self._kept: Optional[set[str]] = None  # the existing files the form sent back
        self.data: list[pending_files.PendingFile] = []

    # Settings ----------------------------------------------------------------------------

    @property
    def zone(self) -> Zone:
        return Zone(self.zone_name, self.settings)

    def options(self) -> Options:
        return self.zone.options(current_app.config)

    def _keywords(self) -> dict[str, Any]:
        config = current_app.config
        if self.zone_name is None:
            return dict(self.settings)
        if self.zone_name not in (config.get(ZONES) or {}):
            zone_keywords(config, self.zone_name, "DropzoneField(zone=...)")  # the error naming the zone
        return self.zone.settings(config)

    def folder(self) -> str:
        """Where :meth:`claim` stores the files: the field's (or its zone's) ``upload_folder``."""
        found = self._keywords().get("upload_folder")
        return upload_folder(self.options(), found if isinstance(found, str) and found else None)

    # Submitted -----------------------------------------------------------------------------

    def process_data(self, value: Any) -> None:
        """A value from ``obj=`` or ``data=`` (the files an object has, as ``claim()`` or
        ``save()`` returned them) is what the field shows as :attr:`existing`; its ``data`` is
        only ever the files sent with the form."""
        if value:
            self.existing = list(value)
        self.data = []

    def populate_obj(self, obj: Any, name: str) -> None:
        """Left alone: pending files become stored files through :meth:`claim`, and the view
        decides what the object keeps (:attr:`removed`)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        checks.needs_secret_key(app, "DropzoneField", checks.FIELD_NEED)
        client = session.get(CLIENT_KEY)
        options = self.options()
        files: list[pending_files.PendingFile] = []
        seen: set[str] = set()
        kept: set[str] = set()
        for value in valuelist:
            if isinstance(value, FileStorage):
                if value.filename:
                    self._keep_posted(app, value, options, files)
                continue
            if not isinstance(value, str) or not value or value in seen:
                continue
            seen.add(value)
            existing = _read_kept(app, value, client, self.binding)
            if existing is not None:
                kept.add(existing)
                continue
            opened = pending_files.open_reference(app, value, client, self.binding, self.name)
            if opened is None:
                self.process_errors.append(pending.NOT_KEPT)
                continue
            try:  # judged again by the field's settings of today
                opened.read_head()
                pending_files.judge(opened, options)
            except UploadRefused as refused:
                self.process_errors.append(pending_files.refusal_of(opened.filename or "", refused))
                continue
            files.append(opened)
        self._kept = kept
        count = len(files) + len(kept)
        if options.max_files is not None and count > options.max_files:
            self.process_errors.append(fill(options.max_file_exceed, options))
        self.data = files

    def _keep_posted(self, app: Any, posted: FileStorage, options: Options, files: list[Any]) -> None:
        """A file posted with the form (no JavaScript): judged, kept pending, referenced."""
        try:
            upload = pending_files.judge(posted, options)
            pending_files.check_room(options, client_id(), [upload])
            found, token = pending_files.keep(app, client_id(), self.binding, upload)
        except UploadRefused as refused:
            self.process_errors.append(pending_files.refusal_of(posted.filename or "", refused))
            return
        files.append(pending_files.PendingFile(app, found, token, self.name))

    @property
    def removed(self) -> list[Any]:
        """The existing files (:attr:`existing`) whose person removed them from the zone, once
        the form was submitted; the view decides what becomes of them."""
        if self._kept is None:
            return []
        return [item for item in self.existing if _existing_key(item) not in self._kept]

    def claim(self) -> list[SavedFile]:
        """Store the field's pending files in its folder under free names, each exactly once
        (another claim of the same file, here or on another server, stores nothing), and send
        ``file_stored`` for each; what was stored."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        options, folder = self.options(), self.folder()
        files = stores.of(app).files
        saved = []
        for each in self.data:
            name = stored_name(each.filename or "", options.stored_name, each)
            stored = files.claim(each.folder, each.found.id, folder, name, each.size)
            if stored is None:
                continue  # claimed already, or gone since it was checked
            found = SavedFile(
                filename=each.filename or "", stored_name=stored.name, path=stored.path, size=each.size,
                mimetype=each.found.mimetype, location=stored.location, zone=self.zone_name,
            )
            saved.append(found)
            signals.file_stored.send(app, saved=found)
        return saved

    # Rendering -----------------------------------------------------------------------------

    def __call__(self, **kwargs: Any) -> Markup:
        return self.render(**kwargs)

    def render(self, nonce: Optional[str] = None, **attributes: Any) -> Markup:
        """The zone (a ``<div>``, no nested form, named by the field's label, with the
        field's ``render_kw`` and ``attributes`` as WTForms writes them), a hidden input per
        pending and kept file, a plain file input for browsers without JavaScript, and its
        configuration (data, no inline script)."""
        from .extension import _nonce

        checks.needs_secret_key(current_app, "DropzoneField", checks.FIELD_NEED)
        attributes = {**(self.render_kw or {}), **attributes}
        zone_id = str(attributes.pop("id", self.id))
        label = self.label.text if self.label is not None else None
        attributes.setdefault("role", "group")
        if label:
            attributes.setdefault("aria_label", str(label))
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        options = self.options()
        client = client_id()
        zone = zonerules.signed(self.zone_name, self.settings, zonerules.FIELD)  # its ticket's
        ticket = pending.sign_ticket(app, pending.Ticket(client, self.binding, zone))
        from flask_wtf.csrf import generate_csrf

        csrf = {"field": app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "token": generate_csrf()}
        chunked = options.chunking
        config = render.zone_config(
            options, id=zone_id, url=url_for("dropzone.pending"), csrf=csrf,
            zone_key=zone.key,
            cancel_url=url_for("dropzone.cancel") if chunked else None,
            status_url=url_for("dropzone.status") if chunked and options.resume else None,
            existing=self._existing_entries(app, client),
        )
        config["options"]["headers"][pending.HEADER] = ticket
        config["options"]["addRemoveLinks"] = True
        config["options"]["autoProcessQueue"] = True
        # The chunk that completes a file is the last one sent (its answer names the file kept).
        config["options"]["parallelChunkUploads"] = False
        config["inForm"] = False
        pending_entries = [
            {"name": each.filename, "size": each.size, "reference": each.reference,
             "thumbnail": url_for("dropzone.pending_file", reference=each.reference)
             if each.found.mimetype.startswith("image/") else None}
            for each in self.data
        ]
        config["field"] = {"name": self.name, "pending": pending_entries, "discardUrl": url_for("dropzone.pending_discard")}
        hidden = "".join(
            f'<input type="hidden" name="{escape(self.name)}" value="{escape(value)}" data-dropzone-reference>'
            for value in [entry["reference"] for entry in pending_entries] + [e["keep"] for e in config["existing"]]
        )
        accept = f' accept="{escape(options.accepted_files)}"' if options.accepted_files else ""
        named = f' aria-label="{escape(label)}"' if label else ""
        fallback = (f'<input type="file" name="{escape(self.name)}" multiple{accept}{named} '
                    f'data-dropzone-fallback="{escape(zone_id)}">')
        zone_html = render.zone_element(zone_id, None, in_form=True, **attributes)
        block = render.config_block(
            config, init_script_url=url_for("dropzone.static", filename="flask-dropzone.js"), nonce=_nonce(nonce)
        )
        return Markup(zone_html + Markup(fallback) + Markup(hidden) + block)

    def _existing_entries(self, app: Any, client: str) -> list[dict[str, Any]]:
        """The existing files, as ``config(existing=...)`` shows them, each with the token
        the form sends back while it is kept (the field deletes nothing itself)."""
        options = dataclasses.replace(self.options(), delete_on_remove=False)
        entries = deletion.existing_files(self.existing, options, self.folder(), self.zone)
        for item, entry in zip(self.existing, entries):
            entry["keep"] = _sign_kept(app, client, self.binding, _existing_key(item))
        return entries


def _existing_key(item: Any) -> str:
    """What tells an existing file of the field from another: its location, else its name."""
    if isinstance(item, SavedFile):
        return item.location or item.stored_name
    return str(item.get("name", "")) if isinstance(item, dict) else str(item)


def _sign_kept(app: Any, client: str, binding: str, key: str) -> str:
    serializer = signing.serializer(app, KEPT_PURPOSE)
    assert serializer is not None
    return serializer.dumps({"c": client, "b": binding, "k": key})


def _read_kept(app: Any, token: str, client: Any, binding: str) -> Optional[str]:
    """The key of an existing file the form sent back as kept, if the token is this field's."""
    serializer = signing.serializer(app, KEPT_PURPOSE)
    if serializer is None or len(token) > 4096:
        return None
    try:
        payload = serializer.loads(token, max_age=math.ceil(pending.expires(app.config)))
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("c") != client or payload.get("b") != binding:
        return None
    return str(payload.get("k"))

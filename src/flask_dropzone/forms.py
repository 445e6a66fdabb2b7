"""``DropzoneField``: a Flask-WTF form field whose files upload as they are dropped, survive a
form that comes back with errors, and are stored when the view claims them.

Each file goes to the extension's pending endpoint while the person fills in the form,
judged by the field's settings (``config()``'s keywords, or a named zone) as it arrives,
and is kept pending (:mod:`~flask_dropzone._protocol.pending_files`); the form carries only a
reference per file. On submit the field's ``data`` is a list of
:class:`~flask_dropzone._protocol.pending_files.PendingFile` (Werkzeug
``FileStorage`` objects read from the store), so Flask-WTF's ``FileRequired``,
``FileAllowed`` and ``FileSize`` judge them; ``claim()`` stores them, once. A browser without
JavaScript posts the files themselves with the form: they become pending files too.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Optional, Sequence

from flask import current_app, g, session, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import FileStorage
from wtforms import Field

from . import _stores as stores
from . import signals
from ._protocol import deletion, pending_files
from ._protocol.clients import CLIENT_KEY, client_id
from ._protocol.context import the_app
from ._protocol.folders import upload_folder
from ._protocol.reporting import STORE_ERRORS, log, store_error
from ._protocol.uploads import SavedFile
from ._rules import checks, delivery, pending, render, zonerules
from ._rules.filenames import stored_name
from ._rules.form_errors import naming_files
from ._rules.messages import fill
from ._rules.settings import Options, SettingError, canonical_keywords, check_alone
from ._rules.zonerules import Zone, ZoneGone
from .errors import AlreadyClaimed, UploadRefused

#: WTForms' own keywords of a field (the others are the zone's settings).
_FIELD_KEYWORDS = frozenset(inspect.signature(Field.__init__).parameters) - {"self"}
#: What a field says when the store cannot be used (its cause is in the log).
STORE_DOWN = "The files cannot be kept right now (storage is unavailable); try again."


def _settings(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """WTForms' keywords and the zone's settings, checked as ``config()`` checks them."""
    own = {key: value for key, value in kwargs.items() if key in _FIELD_KEYWORDS}
    settings = canonical_keywords(
        {k: v for k, v in kwargs.items() if k not in _FIELD_KEYWORDS}, "DropzoneField()"
    )
    return own, settings


class DropzoneField(Field):
    """A zone inside the form (``{{ form.photos() }}``): its files upload as they are dropped
    and are claimed by the view (:meth:`claim`). ``zone`` names a zone of
    ``DROPZONE_ZONES``; the other keywords are ``config()``'s (``allowed_file_type``,
    ``max_files``, ``max_file_size``, ``chunking``, ...), over the zone's."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_form" not in kwargs:
            # a typo, or a value that cannot work, fails where the form is defined
            settings = {k: v for k, v in kwargs.items() if k != "zone" and k not in _FIELD_KEYWORDS}
            check_alone(settings, "DropzoneField()", form_field=True)
        return super().__new__(cls, *args, **kwargs)

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        zone: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        own, self.settings = _settings(kwargs)
        form = own.get("_form")
        super().__init__(label, validators, **own)
        self.zone_name = zone
        self.binding = f"{type(form).__module__}.{type(form).__qualname__}.{self.name}"
        #: Files stored before (what ``claim()`` or ``save()`` returned, or dicts as for
        #: ``config(existing=...)``), shown in the zone; set it before rendering.
        self.existing: Sequence[Any] = ()
        self._kept: Optional[set[str]] = None  # the existing files the form sent back
        self._posted: list[
            FileStorage
        ] = []  # files posted with the form, kept once its CSRF check passed
        self._named = 0  # the pending files the form named, each once
        self._claimed: Optional[list[SavedFile]] = None
        self.data: list[pending_files.PendingFile] = []

    # Settings ----------------------------------------------------------------------------

    @property
    def zone(self) -> Zone:
        return Zone(self.zone_name, self.settings)

    def _options(self) -> Options:
        """The field's settings over today's app settings; SettingError naming the field
        when they cannot work together (or its zone is gone)."""
        try:
            return self.zone.options(current_app.config)
        except ZoneGone as error:
            raise SettingError(f"DropzoneField {self.binding}: {error}") from None

    def folder(self) -> str:
        """Where :meth:`claim` stores the files: the field's (or its zone's) ``upload_folder``."""
        return upload_folder(self._options())

    # Submitted -----------------------------------------------------------------------------

    def process_data(self, value: Any) -> None:
        """A value from ``obj=`` or ``data=`` (the files an object has, as ``claim()`` or
        ``save()`` returned them) is what the field shows as :attr:`existing`; its ``data`` is
        only ever the files sent with the form."""
        if value:
            self.existing = list(value)
        self.data = []

    def _run_validation_chain(self, form: Any, validators: Any) -> bool:
        """WTForms' chain, where Flask-WTF's ``FileAllowed`` and ``FileSize`` name the files
        they refuse (:mod:`~flask_dropzone._rules.form_errors`)."""
        return bool(super()._run_validation_chain(form, naming_files(validators)))

    def populate_obj(self, obj: Any, name: str) -> None:
        """Left alone: pending files become stored files through :meth:`claim`, and the view
        decides what the object keeps (:attr:`removed`)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """The form's values: references to pending files (each opened once, by what it
        names, at most ``max_files`` of them), existing files kept, and files posted
        without JavaScript (kept pending once the form's CSRF check passed)."""
        app = the_app()
        checks.needs_secret_key(app, "DropzoneField", checks.FIELD_NEED)
        client = session.get(CLIENT_KEY)
        options = self._options()
        named: set[str] = set()
        self._kept, self._posted, self.data = set(), [], []
        for value in valuelist:
            if isinstance(value, FileStorage):
                if value.filename:
                    self._posted.append(value)
                continue
            if not isinstance(value, str) or not value:
                continue
            key = pending.read_kept(app, value, client, self.binding)
            if key is not None:
                self._kept.add(key)
                continue
            found = pending.read_reference(app, value, client, self.binding)
            if found is None:
                self._error(pending.NOT_KEPT)
            elif found.id not in named:
                named.add(found.id)
                if options.max_files is None or len(named) <= options.max_files:
                    self._open(app, found, value, options)  # past the limit: counted, not opened
        self._named = len(named)
        self.process_errors.extend(_refused_parts(self.name))

    def _error(self, message: str) -> None:
        if message not in self.process_errors:
            self.process_errors.append(message)

    def _open(self, app: Any, found: pending.Reference, token: str, options: Options) -> None:
        """The pending file ``found``, judged again by the field's settings of today."""
        opened = pending_files.PendingFile(app, found, token, self.name)
        try:
            if not opened.there:
                raise FileNotFoundError(found.id)
            opened.read_head()
            pending_files.judge(opened, options)
        except FileNotFoundError:  # claimed, discarded or swept (by another request meanwhile)
            self._error(pending.NOT_KEPT)
            return
        except STORE_ERRORS as error:
            log.error("reading a pending file failed: %s", error)
            self._error(STORE_DOWN)
            return
        except UploadRefused as refused:
            self.process_errors.append(pending_files.refusal_of(opened.filename or "", refused))
            return
        self.data.append(opened)

    def pre_validate(self, form: Any) -> None:
        """Files posted with the form (no JavaScript) are kept pending only once the form's
        CSRF check passed (another site cannot plant a file in a person's form); then the
        field's count is judged."""
        options = self._options()
        posted, self._posted = self._posted, []
        kept_now = 0
        if posted and _csrf_passed(form):
            kept_now = sum(self._keep_posted(each, options) for each in posted)
        count = self._named + len(self._kept or ()) + kept_now
        if options.max_files is not None and count > options.max_files:
            self.errors.append(fill(options.max_file_exceed, options))

    def _keep_posted(self, posted: FileStorage, options: Options) -> bool:
        """A file posted with the form (no JavaScript): judged, kept pending, referenced;
        whether it was kept."""
        app = the_app()
        try:
            upload = pending_files.judge(posted, options)
            pending_files.check_room(options, client_id(), [upload])
            found, token = pending_files.keep(app, client_id(), self.binding, upload)
        except UploadRefused as refused:
            self.errors.append(pending_files.refusal_of(posted.filename or "", refused))
            return False
        self.data.append(pending_files.PendingFile(app, found, token, self.name))
        return True

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        """As WTForms validates, and a file claimed or discarded by another request while a
        validator reads it (a form sent twice), or a store that cannot be read, is a field
        error, never an error of the app."""
        try:
            return super().validate(form, extra_validators)
        except FileNotFoundError:
            message = pending.NOT_KEPT
        except STORE_ERRORS as error:
            log.error("reading a pending file failed: %s", error)
            message = STORE_DOWN
        self.errors = [*self.errors, message]  # type: ignore[has-type]
        return False

    @property
    def removed(self) -> list[Any]:
        """The existing files (:attr:`existing`, as they were given) whose person removed
        them from the zone, once the form was submitted; the view decides what becomes of
        them."""
        if self._kept is None:
            return []
        return [item for item in self.existing if self._key(item) not in self._kept]

    def claim(self, folder: Optional[str] = None) -> list[SavedFile]:
        """Store the field's pending files in its folder (or ``folder``, as ``save()`` takes
        it: a person's own, say) under free names, each exactly once, and send ``file_stored``
        for each; what was stored (again, if called again).

        All or none, whoever else claims them: the files are claimed in one order, so of two
        requests carrying the same form (sent twice) the first to claim stores them all, and
        the other stores nothing and raises :class:`~flask_dropzone.AlreadyClaimed` (409). A
        store that fails midway gives back what this call stored (the files stay pending, the
        form can be sent again) and raises :class:`~flask_dropzone.StoreUnavailable` (503) or
        :class:`~flask_dropzone.InsufficientStorage` (507)."""
        if self._claimed is not None:
            return list(self._claimed)
        app = the_app()
        options = self._options()
        target = upload_folder(options, folder)
        files = stores.of(app).files
        taken: list[tuple[pending_files.PendingFile, stores.Claim]] = []
        for each in sorted(self.data, key=lambda pending_file: pending_file.found.id):
            try:
                name = stored_name(each.filename or "", options.stored_name, each)
                claimed = files.claim(each.folder, each.found.id, target, name, each.size)
            except FileNotFoundError:  # claimed by another request as a naming function read it
                claimed = None
            except STORE_ERRORS as error:
                _give_back(taken)
                raise store_error(error).about(each.filename or "") from error
            if claimed is None:  # claimed by another request (a form sent twice), or gone
                _give_back(taken)
                raise AlreadyClaimed().about(each.filename or "")
            taken.append((each, claimed))
        order = {id(each): index for index, each in enumerate(self.data)}
        taken.sort(key=lambda pair: order[id(pair[0])])  # as the person gave them
        saved = [_saved(each, claimed.stored, self.zone_name) for each, claimed in taken]
        for (_, claimed), found in zip(taken, saved):
            _finish(claimed)
            signals.file_stored.send(app, saved=found)
        self._claimed = saved
        return list(saved)

    # Rendering -----------------------------------------------------------------------------

    def __call__(self, **kwargs: Any) -> Markup:
        return self.render(**kwargs)

    def render(self, nonce: Optional[str] = None, **attributes: Any) -> Markup:
        """The zone (a ``<div>``, no nested form, named by the field's label, with the
        field's ``render_kw`` and ``attributes`` as WTForms writes them) and its configuration
        (data, no inline script), then what a browser without JavaScript uses instead (which
        the zone takes out of the form): the field's files kept so far, each a checkbox to
        keep it, and a file input."""
        from .extension import _nonce

        app = the_app()
        checks.needs_secret_key(app, "DropzoneField", checks.FIELD_NEED)
        attributes = {**(self.render_kw or {}), **attributes}
        zone_id = str(attributes.pop("id", self.id))
        label = self.label.text if self.label is not None else None
        attributes.setdefault("role", "group")
        if label:
            attributes.setdefault("aria_label", str(label))
        options = self._options()
        client = client_id()
        zone = zonerules.signed(self.zone_name, self.settings, zonerules.FIELD)  # its ticket's
        ticket = pending.sign_ticket(app, pending.Ticket(client, self.binding, zone, self.name))
        from flask_wtf.csrf import generate_csrf

        csrf = {
            "field": app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
            "token": generate_csrf(),
        }
        chunked = options.chunking
        config = render.zone_config(
            options,
            id=zone_id,
            url=url_for("dropzone.pending"),
            csrf=csrf,
            zone_key=zone.key,
            cancel_url=url_for("dropzone.cancel") if chunked else None,
            status_url=url_for("dropzone.status") if chunked and options.resume else None,
            existing=self._existing_entries(app, client),
        )
        config["options"]["headers"][pending.HEADER] = ticket
        config["options"]["addRemoveLinks"] = True
        config["options"]["autoProcessQueue"] = True
        config["inForm"] = False
        pending_entries = [
            {
                "name": each.filename,
                "size": each.size,
                "reference": each.reference,
                "thumbnail": url_for("dropzone.pending_file", reference=each.reference)
                if each.found.mimetype in delivery.INLINE_IMAGES
                else None,
            }  # a picture a browser shows
            for each in self.data
        ]
        config["field"] = {
            "name": self.name,
            "pending": pending_entries,
            "discardUrl": url_for("dropzone.pending_discard"),
        }
        kept = [(each.filename or "", each.reference) for each in self.data]
        kept += [
            (str(entry.get("filename") or entry["name"]), str(entry["keep"]))
            for entry in config["existing"]
        ]
        zone_html = render.zone_element(zone_id, None, in_form=True, **attributes)
        block = render.config_block(
            config,
            init_script_url=url_for("dropzone.static", filename="flask-dropzone.js"),
            nonce=_nonce(nonce),
        )
        return Markup(
            zone_html + block + self._without_script(zone_id, ticket, kept, options, label)
        )

    def _without_script(
        self,
        zone_id: str,
        ticket: str,
        kept: list[tuple[str, str]],
        options: Options,
        label: Optional[str],
    ) -> Markup:
        """What a browser without JavaScript shows: the files kept so far (a checkbox each,
        unchecked to remove it), the field's ticket (before the file input: the server judges
        the files posted by the field's settings while they arrive), and a file input."""
        name = escape(self.name)
        items = "".join(
            f'<li><label><input type="checkbox" name="{name}" value="{escape(value)}" checked> '
            f"{escape(filename)}</label></li>"
            for filename, value in kept
        )
        listed = f'<ul class="dz-fallback-files">{items}</ul>' if items else ""
        accept = f' accept="{escape(options.accepted_files)}"' if options.accepted_files else ""
        named = f' aria-label="{escape(label)}"' if label else ""
        return Markup(
            f'<div class="dz-fallback-field" data-dropzone-fallback="{escape(zone_id)}">{listed}'
            f'<input type="hidden" name="{pending.TICKET_INPUT}" value="{escape(ticket)}">'
            f'<input type="file" name="{name}" multiple{accept}{named}></div>'
        )

    def _key(self, item: Any) -> str:
        """What tells an existing file from another, however the app gives it (a SavedFile,
        its ``asdict()``, a dict with a name in the field's folder): where it is, its folder
        named as the page may carry it (relative to the upload folder, no server path)."""
        place = deletion.stored_place(item, self.folder())
        if place is None:
            raise TypeError(
                "a field's existing files are what save() returned or dicts as for existing=, not "
                f"{item!r}"
            )
        folder, name = place
        return f"{deletion.folder_label(folder)}/{name}"

    def _existing_entries(self, app: Any, client: str) -> list[dict[str, Any]]:
        """The existing files still kept (all of them, until the form is sent; then those its
        person did not remove), as ``config(existing=...)`` shows them, each with the token
        the form sends back while it is kept (the field deletes nothing itself)."""
        shown = [
            item for item in self.existing if self._kept is None or self._key(item) in self._kept
        ]
        options = dataclasses.replace(self._options(), delete_on_remove=False)
        entries = deletion.existing_files(shown, options, self.folder(), self.zone)
        for item, entry in zip(shown, entries):
            entry["keep"] = pending.sign_kept(app, client, self.binding, self._key(item))
        return entries


def _refused_parts(name: str) -> list[str]:
    """The refusals of the files posted as ``name`` with the form, judged while they arrived."""
    parts = g.get("_dropzone_parts") or ()
    return [
        pending_files.refusal_of(item.filename or "", item)
        for part, item in parts
        if part == name and isinstance(item, UploadRefused)
    ]


def _csrf_passed(form: Any) -> bool:
    """Whether the form's CSRF token holds (CSRFProtect's check counts); a form without one
    is the app's choice."""
    meta = form.meta
    if not meta.csrf:
        return True
    token = form._fields.get(meta.csrf_field_name)
    return token is not None and bool(token.validate(form))


def _saved(
    each: pending_files.PendingFile, stored: stores.Stored, zone: Optional[str]
) -> SavedFile:
    return SavedFile(
        filename=each.filename or "",
        stored_name=stored.name,
        path=stored.path,
        size=each.size,
        mimetype=each.found.mimetype,
        location=stored.location,
        zone=zone,
    )


def _give_back(taken: list[tuple[Any, stores.Claim]]) -> None:
    """Undo the claims of a call that failed midway: what they stored goes, the files are
    pending again. One that cannot be undone is logged (the sweep removes its file)."""
    for _, claimed in taken:
        try:
            claimed.undo()
        except (*STORE_ERRORS, OSError) as error:
            log.error("giving back a claim failed: %s", error)


def _finish(claimed: stores.Claim) -> None:
    """The claim stands; a pending file that cannot be removed now is left to the sweep."""
    try:
        claimed.finish()
    except (*STORE_ERRORS, OSError) as error:
        log.error("removing a claimed pending file failed: %s", error)

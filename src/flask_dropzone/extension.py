"""The Flask extension: registers settings, static files and the ``dropzone`` template global."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import quote, urlsplit
from weakref import WeakKeyDictionary

from flask import Blueprint, Flask, Response, current_app, g, request, url_for
from markupsafe import Markup

from . import _endpoints as endpoints
from . import _stores as stores
from . import _vendor, signals
from ._protocol import clients, deletion, parsing, receive, sending, variants
from ._protocol.context import the_app
from ._protocol.folders import chunk_folder, upload_folder
from ._protocol.reporting import log, report, store_refusals
from ._protocol.uploads import SAVED_FIELDS, SavedFile, Upload, answer
from ._rules import (
    checks,
    delivery,
    images,
    pending,
    render,
    signing,
    sniffing,
    storage_settings,
    zonerules,
)
from ._rules.settings import (
    ALIASES,
    KEYWORDS,
    ZONES,
    Options,
    SettingError,
    check_names,
    check_zones,
    resolve,
    setting_name,
    zone_keywords,
)
from ._rules.zonerules import Zone
from .cli import dropzone_cli
from .errors import UploadRefused
from .utils import get_url


def _with_zone(where: str, zone: Optional[str], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` over the keywords of the named zone ``zone`` (``DROPZONE_ZONES``), if any."""
    if zone is None:
        return overrides
    return {**zone_keywords(current_app.config, zone, where), **overrides}


def _options(where: str, overrides: dict[str, Any]) -> Options:
    """The zone's settings, with what they need of the app's storage checked where given."""
    options = resolve(current_app.config, overrides, where)
    if overrides:
        app_stores = stores.of(current_app)
        storage_settings.check_zone(app_stores.settings, options, where)
        if "upload_folder" in overrides:
            _check_bucket_folder(app_stores, options.upload_folder, f"{where} upload_folder")
    return options


def _stored_file(
    where: str, item: Any, folder: Optional[str], zone: Optional[str], kwargs: dict[str, Any]
) -> tuple[str, str, Optional[str]]:
    """The folder and stored name of ``item``, and the person's name for it where known: a
    :class:`SavedFile` (or a dict with its ``location``) where it was stored; a name (or a dict
    with a ``name``, as ``existing=`` takes) in ``folder`` as ``save()`` with these settings
    stored it. TypeError for anything else."""
    if isinstance(item, Mapping) and isinstance(item.get("location") or None, str):
        row: dict[str, Any] = {key: item[key] for key in SAVED_FIELDS if key in item}
        item = SavedFile(**row)
    if isinstance(item, SavedFile):
        if folder is not None or zone is not None or kwargs:
            raise TypeError(
                f"{where} of a stored file's location takes no folder, zone or settings"
            )
        location = item.location or item.path
        if not location:
            raise ValueError(f"{where}: the SavedFile of {item.stored_name!r} has no location")
        found, stored = stores.of(current_app).files.locate(location)
        return found, stored, item.filename or None
    person: Optional[str] = None
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        person = item.get("filename") if isinstance(item.get("filename"), str) else None
        item = item["name"]
    if not isinstance(item, str):
        raise TypeError(
            f"{where} takes a stored name, a SavedFile or a dict with a 'name' or 'location', not "
            f"{item!r}"
        )
    keywords = _with_zone(where, zone, kwargs)
    options = _options(where, keywords)
    return upload_folder(options, folder), item, person or None


def _check_bucket_folder(app_stores: stores.Stores, folder: Optional[str], where: str) -> None:
    """In a bucket a folder is a key prefix inside ``DROPZONE_S3_PREFIX``: an absolute path, or
    one leaving the prefix, means nothing there (on disk the folder checks are made apart)."""
    if folder is not None and not app_stores.files.local:
        try:
            app_stores.files.folder(folder, "")
        except ValueError as error:
            raise SettingError(f"{where}: {error}") from None


def _nonce(nonce: Optional[str]) -> Optional[str]:
    """The explicit nonce, else the app's ``csp_nonce()`` (Flask-Talisman's) if there is one."""
    if nonce is not None:
        return nonce or None
    provider = current_app.jinja_env.globals.get("csp_nonce")
    return (provider() or None) if callable(provider) else None


def _csrf() -> dict[str, str]:
    if "csrf" not in current_app.extensions:
        raise RuntimeError(
            "DROPZONE_ENABLE_CSRF needs Flask-WTF's CSRFProtect: install Flask-WTF (the csrf "
            "extra) "
            "and call CSRFProtect(app)."
        )
    from flask_wtf.csrf import generate_csrf

    return {"field": current_app.config["WTF_CSRF_FIELD_NAME"], "token": generate_csrf()}


def _forget_client_at_logout(app: Flask) -> None:
    """With Flask-Login, a person logging out leaves nothing of theirs to the next one."""
    try:
        from flask_login import user_logged_out
    except ImportError:
        return
    user_logged_out.connect(_logged_out, app)


def _logged_out(sender: Flask, **extra: Any) -> None:
    clients.forget_client()


class _StaticBlueprint(Blueprint):
    """The extension's static files, also under the names Flask-Dropzone 2.0.0 served
    them by (``dropzone.min.js``, ``dropzone.min.css``), which templates link directly."""

    OLD_NAMES = {
        f"dropzone.min.{kind}": "dropzone/" + name for kind, name in render.DIST_FILES.items()
    }

    def send_static_file(self, filename: str) -> Response:
        return super().send_static_file(self.OLD_NAMES.get(filename, filename))


def _current_url() -> str:
    """This page's URL under the app's prefix (``SCRIPT_NAME``), as sent."""
    path = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=~")
    query = request.query_string.decode("latin-1")
    return path + ("?" + query if query else "")


def _asset(kind: str, url: Optional[str], version: str, nonce: Optional[str]) -> Markup:
    tag = render.script if kind == "js" else render.stylesheet
    nonce = _nonce(nonce)
    if url:
        return tag(url, nonce=nonce)
    if current_app.config["DROPZONE_SERVE_LOCAL"] and version == _vendor.VERSION:
        local = url_for("dropzone.static", filename=f"dropzone.min.{kind}")  # 2.0.0's names
        return tag(local, nonce=nonce)
    return tag(*render.cdn_asset(version, kind), nonce=nonce)


def _first_request_checks(app: Flask) -> Callable[[], None]:
    """Check, once, what an app factory may set after ``init_app``."""
    checked = False

    def check() -> None:
        nonlocal checked
        if not checked:
            checks.check_at_first_request(app, resolve(app.config))
            checked = True

    return check


class Dropzone:
    """Flask-Dropzone. ``Dropzone(app)`` or ``Dropzone()`` then ``init_app(app)``.

    The same object is the ``dropzone`` of templates (``load_css``, ``load_js``,
    ``config``, ``create``, ``style``) and of views.
    """

    def __init__(self, app: Optional[Flask] = None) -> None:
        #: Each app's stores, built by :meth:`init_app`.
        self._stores: "WeakKeyDictionary[Flask, stores.Stores]" = WeakKeyDictionary()
        self._delete_checks: list[Callable[[str, str], Any]] = []
        #: The app's choice of a direct upload's folder (:meth:`direct_folder`), if any.
        self._folder_for: Optional[Callable[[Optional[str], str], Any]] = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set the app's ``DROPZONE_*`` defaults and check every setting (a bad one fails
        here, naming it), build its stores, serve the static files and endpoints, and make
        ``dropzone`` a global of its templates. Calling it twice is harmless."""
        for keyword in KEYWORDS:
            app.config.setdefault(setting_name(keyword), getattr(Options, keyword))
        for name, default in storage_settings.DEFAULTS.items():
            app.config.setdefault(name, default)
        app.config.setdefault(ZONES, {})
        app.config.setdefault(signing.APP_ID, None)
        app.config.setdefault(pending.EXPIRES, pending.DEFAULT_EXPIRES)
        app.config.setdefault(images.VARIANTS, images.default_variants())
        signing.check_app_id(app.config)
        pending.expires(app.config)  # a bad value fails here, naming the setting
        images.variants(app.config)
        check_names(
            app.config,
            (
                *map(setting_name, KEYWORDS),
                *storage_settings.DEFAULTS,
                ZONES,
                signing.APP_ID,
                pending.EXPIRES,
                images.VARIANTS,
            ),
        )
        options = resolve(app.config)  # a bad setting fails at start-up, with its name
        check_zones(app.config)
        storage = storage_settings.storage(app.config)
        app.extensions["dropzone"] = self
        self._stores[app] = stores.build(storage)
        self._check_storage_needs(app, options)
        if self._stores[app].files.local:
            with app.app_context():
                checks.check_at_start(upload_folder(options), chunk_folder(options))
                for name, keywords in (app.config.get(ZONES) or {}).items():
                    where = f"{ZONES}[{name!r}]"
                    try:  # each zone's folder apart from the chunk folder, named now
                        upload_folder(resolve(app.config, keywords, where))
                    except SettingError as error:
                        raise SettingError(f"{where}: {error}") from None
        if "dropzone" not in app.blueprints:
            static_url_path = "/dropzone" + (app.static_url_path or "/static")
            blueprint = _StaticBlueprint(
                "dropzone", __name__, static_folder="static", static_url_path=static_url_path
            )
            # On S3 any zone may upload direct (s3_direct is a zone's): each start needs its rules.
            endpoints.register(blueprint, self._delete_checks, storage.kind == "s3")
            app.register_blueprint(blueprint)
        app.jinja_env.globals["dropzone"] = self  # in every template, macros included
        variants.hint_without_pillow(app.config)
        if receive.end_request not in app.teardown_request_funcs.get(None, []):
            app.teardown_request(receive.end_request)
            app.before_request(_first_request_checks(app))
            # Run last (after_request runs in reverse order), whenever other extensions register
            # theirs.
            app.after_request_funcs.setdefault(None, []).insert(0, sending.keep_safety_headers)
        endpoints.plain_upload_errors(app)
        parsing.install(app)
        _forget_client_at_logout(app)
        if "dropzone" not in app.cli.commands:
            app.cli.add_command(dropzone_cli)

    def _check_storage_needs(self, app: Flask, options: Options) -> None:
        """What the app's settings, and each named zone's, need of the storage (direct uploads
        need S3, chunks that are S3 parts their size, a folder in a bucket a key prefix), the
        error naming the setting."""
        app_stores = self._stores[app]
        storage_settings.check_zone(app_stores.settings, options)
        _check_bucket_folder(app_stores, options.upload_folder, setting_name("upload_folder"))
        for name, keywords in (app.config.get(ZONES) or {}).items():
            where = f"{ZONES}[{name!r}]"
            zone = resolve(app.config, keywords, where)
            storage_settings.check_zone(app_stores.settings, zone, where)
            _check_bucket_folder(app_stores, zone.upload_folder, f"{where} upload_folder")

    def before_delete(self, check: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
        """Register ``check(name, folder)``, called before a file is deleted from its remove
        link (``DELETE_ON_REMOVE``); only a true result lets the delete go on: anything
        else (False, None, no row found) keeps the file (403). After a delete,
        ``file_deleted`` is sent."""
        self._delete_checks.append(check)
        return check

    def direct_folder(
        self, choose: Callable[[Optional[str], str], Any]
    ) -> Callable[[Optional[str], str], Any]:
        """Register ``choose(zone, filename)``, which decides where a direct upload
        (``s3_direct``) is stored, since no view runs for it: called when the upload
        starts and again when it completes (in the request, so ``current_user`` works),
        with the zone's name (None for a zone set up by keywords) and the client's name for
        the file. It returns a folder (a key prefix inside ``DROPZONE_S3_PREFIX``, such as
        ``f"users/{current_user.id}"``), None for the zone's own, or False to refuse the
        upload (403)."""
        self._folder_for = choose
        return choose

    @staticmethod
    def forget_client() -> None:
        """Give this browser a new client id: what it was given before (partial uploads,
        resume entries, delete tokens, zone rules) is no longer its own. Call it when a
        person logs in or out; with Flask-Login it is called on ``user_logged_out``."""
        clients.forget_client()

    @staticmethod
    def storage_origin() -> Optional[str]:
        """The origin browsers read stored files from (``send_stored()`` redirects there) and,
        with direct uploads, send them to: the bucket's, with S3 storage; None when the app
        sends the files itself (disk). A Content-Security-Policy adds it to ``img-src`` (and
        ``media-src``) and, with direct uploads, to ``connect-src``."""
        files = stores.of(current_app).files
        if files.local:
            return None
        url = urlsplit(files.url("", "origin", 60, "text/plain", "inline") or "")
        return f"{url.scheme}://{url.netloc}" if url.netloc else None

    # Views ------------------------------------------------------------------

    @staticmethod
    def files(zone: Optional[str] = None, **kwargs: Any) -> list[Upload]:
        """The uploaded files of this request, checked against the settings
        (those of the named ``zone``, overridden by ``kwargs``), in the order the browser
        sent them.

        Works for single and multiple uploads alike. A refused file raises an
        :class:`~flask_dropzone.UploadRefused` whose response is its message.
        """
        options = _options("files()", _with_zone("files()", zone, kwargs))
        try:
            return receive.uploads(options)
        except UploadRefused as refused:
            report(refused, zone)
            raise

    @staticmethod
    def save(
        folder: Optional[str] = None, zone: Optional[str] = None, **kwargs: Any
    ) -> list[SavedFile]:
        """Check and store every uploaded file of this request in ``folder``
        (default ``DROPZONE_UPLOAD_FOLDER``) under a safe name that does not
        replace an existing file; return what was stored. ``zone`` names a zone of
        ``DROPZONE_ZONES`` whose settings apply (``kwargs`` over them)."""
        keywords = _with_zone("save()", zone, kwargs)
        options = _options("save()", keywords)
        folder = upload_folder(options, folder)
        try:
            return receive.save(options, folder, Zone(zone, kwargs))
        except UploadRefused as refused:
            report(refused, zone)
            raise

    @staticmethod
    def answer(saved: Iterable[SavedFile]) -> dict[str, list[dict[str, str]]]:
        """What a view answers for the files it stored (what ``save()`` returned):
        ``{"stored": [{"filename", "stored_name"}, ...]}``, the shape the extension's own
        answers have (a direct upload's, a refusal of some files), so one page script reads
        them all. A dict: Flask sends it as JSON, and the view may add keys of its own."""
        return answer(saved)

    @staticmethod
    def send_stored(
        name: Union[str, SavedFile, Mapping[str, Any]],
        folder: Optional[str] = None,
        zone: Optional[str] = None,
        *,
        expires_in: int = delivery.URL_EXPIRES,
        download_name: Optional[str] = None,
        variant: Optional[str] = None,
        **kwargs: Any,
    ) -> Response:
        """The response sending the stored file ``name`` of ``folder``, found as ``save()``
        with the same ``folder``, ``zone`` and ``kwargs`` stored it; or a :class:`SavedFile`
        (or a dict as ``existing=`` takes) where it was stored, named after the person's name
        for it. ``download_name``: the name the browser gives the file (default: the
        person's name when known, else ``name``).

        ``name`` may come straight from the URL: one that is not a plain stored name
        (a path, a leading dot, ...) or names no file is a plain-text 404. A raster image
        (by its content) is shown inline, anything else is a download; every response
        carries ``nosniff`` and a sandboxing Content-Security-Policy. On disk the file is
        streamed (with ETag, Last-Modified and ranges); with S3 storage the answer is a
        redirect to a presigned URL valid ``expires_in`` seconds. An unusable store is 503.

        ``variant`` names a size of ``DROPZONE_VARIANTS`` (``"thumbnail"``): the image made
        from the stored one to fit that box (upright, aspect ratio kept, the first frame of an
        animation, no metadata; a JPEG, or a PNG where it has transparency), made on the
        first request and kept in the store beside its file, then sent the same way. An
        unknown variant, a file that is no JPEG, PNG, GIF, WebP or BMP (or has more than
        50 megapixels, or cannot be decoded), and a missing Pillow (the ``images`` extra)
        are a plain-text 404.
        """
        expires_in = delivery.check_expiry(expires_in)
        target, stored, person = _stored_file("send_stored()", name, folder, zone, kwargs)
        shown_as = download_name or person
        if variant is not None:
            return variants.send_variant(target, stored, variant, expires_in, shown_as)
        return sending.send_stored(target, stored, expires_in, shown_as=shown_as)

    @staticmethod
    def stored_files(
        folder: Optional[str] = None, zone: Optional[str] = None, **kwargs: Any
    ) -> list[SavedFile]:
        """The files stored in ``folder``, found as ``save()`` with the same ``folder``,
        ``zone`` and ``kwargs`` stores them, by name: each a :class:`SavedFile` (its
        ``filename`` is its stored name, the person's name being known only to what ``save()``
        returned; its type by its name), to show, send or delete. An unusable store is
        :class:`StoreUnavailable` (503)."""
        keywords = _with_zone("stored_files()", zone, kwargs)
        target = upload_folder(_options("stored_files()", keywords), folder)
        files = stores.of(the_app()).files
        with store_refusals(reading=True):
            listed = files.listing(target)
        found = []
        for name, size in listed:
            place = files.place(target, name)
            mimetype = sniffing.type_by_name(name) or "application/octet-stream"
            found.append(SavedFile(name, name, place.path, size, mimetype, place.location, zone))
        return found

    @staticmethod
    def delete_stored(
        name: Union[str, SavedFile, Mapping[str, Any]],
        folder: Optional[str] = None,
        zone: Optional[str] = None,
        **kwargs: Any,
    ) -> bool:
        """Delete the stored file ``name`` of ``folder``, found as ``save()`` with the same
        ``folder``, ``zone`` and ``kwargs`` stored it; or a :class:`SavedFile` where it was
        stored, or a dict as ``existing=`` takes (one a form field's ``removed`` lists, say);
        whether there was one. A name that cannot be a stored file (a path, a leading dot,
        ...) is none; anything else than a name, a SavedFile or such a dict is a TypeError.
        ``file_deleted`` is sent; an unusable store is :class:`StoreUnavailable` (503)."""
        app = the_app()
        target, name, _ = _stored_file("delete_stored()", name, folder, zone, kwargs)
        if not delivery.servable(name):
            return False
        with store_refusals():
            deleted = stores.of(app).files.delete(target, name)
        if deleted:
            signals.file_deleted.send(app, name=name, folder=target)
            log.info("deleted %r from %r by the app", name, target)
        return deleted

    # Template helpers -------------------------------------------------------

    @staticmethod
    def load_css(
        css_url: Optional[str] = None,
        version: str = _vendor.VERSION,
        nonce: Optional[str] = None,
        extension_css: bool = True,
    ) -> Markup:
        """``<link>`` to Dropzone's stylesheet (``css_url``, the vendored copy or jsDelivr),
        then to the extension's own (outcomes in sight, progress, keyboard focus), which
        ``extension_css=False`` leaves out."""
        tags = _asset("css", css_url, version, nonce)
        if extension_css:
            ours = url_for("dropzone.static", filename="flask-dropzone.css")
            tags += render.stylesheet(ours, nonce=_nonce(nonce))
        return tags

    @staticmethod
    def load_js(
        js_url: Optional[str] = None, version: str = _vendor.VERSION, nonce: Optional[str] = None
    ) -> Markup:
        """``<script>`` loading Dropzone.js (``js_url``, the vendored copy or jsDelivr), then the
        extension's script, which sets up each zone and says in the console which zone lacks
        its ``config()``."""
        ours = render.script(
            url_for("dropzone.static", filename="flask-dropzone.js"), nonce=_nonce(nonce)
        )
        return _asset("js", js_url, version, nonce) + ours

    @staticmethod
    def config(
        redirect_url: Optional[str] = None,
        custom_init: str = "",
        custom_options: str = "",
        nonce: Optional[str] = None,
        id: str = "myDropzone",
        existing: Sequence[Any] = (),
        **kwargs: Any,
    ) -> Markup:
        """Set up the zone ``id`` with the settings, overridden by ``kwargs``; ``existing``
        lists files already stored (what ``save()`` returned, or dicts with ``name``,
        ``size``, ``url``, ``thumbnail``) that the zone shows, with working remove links; an
        image given no ``thumbnail`` shows its ``thumbnail`` variant (``DROPZONE_VARIANTS``),
        which the extension sends to this browser only.

        ``custom_init`` (the body of Dropzone's ``init``) and ``custom_options``
        (extra ``key: value,`` pairs) are raw JavaScript, written as given.
        """
        zones = current_app.config.get(ZONES) or {}
        name = id if id in zones else None  # a named zone's settings, under the keywords
        keywords = _with_zone("config()", name, kwargs)
        options = _options("config()", keywords)
        if redirect_url is None and options.redirect_view:
            redirect_url = url_for(options.redirect_view)
        upload_url = get_url(options.upload_action) if options.in_form else None
        url = None if options.in_form else g.get("_dropzone_actions", {}).get(id)
        csrf = _csrf() if options.enable_csrf else None
        app = the_app()
        direct = zonerules.goes_direct(app, options)  # a zone in a form sends files with the form
        checks.check_secret_key(app, options)
        client = None
        if options.chunking or options.delete_on_remove or direct or app.secret_key:
            # before the page loads: parallel chunks share it, deletes and rules are bound to it
            client = clients.client_id()
        purpose = zonerules.DIRECT if direct else zonerules.VIEW
        zone = zonerules.signed(name, kwargs, purpose)
        rules = zonerules.sign(app, zone, client, purpose) if client is not None else None
        delete_url = url_for("dropzone.delete") if options.delete_on_remove else None
        chunked = (
            options.chunking and not direct
        )  # a direct upload is cancelled and resumed by its own endpoints
        cancel_url = url_for("dropzone.cancel") if chunked else None
        status_url = url_for("dropzone.status") if chunked and options.resume else None
        direct_urls = None
        if direct:
            direct_urls = {
                name: url_for(f"dropzone.direct_{name}") for name in endpoints.DIRECT_NAMES
            }
        folder = upload_folder(options)
        config = render.zone_config(
            options,
            id=id,
            url=url,
            redirect_url=redirect_url,
            upload_url=upload_url,
            csrf=csrf,
            rules=rules,
            rules_url=url_for("dropzone.rules") if rules else None,
            rules_expires=zonerules.max_age(app),
            zone_key=zone.key,
            delete_url=delete_url,
            cancel_url=cancel_url,
            status_url=status_url,
            direct_urls=direct_urls,
            existing=deletion.existing_files(existing, options, folder, Zone(name, kwargs)),
            not_kept=receive.not_kept(options) if options.in_form else (),
        )
        return render.config_block(
            config,
            init_script_url=url_for("dropzone.static", filename="flask-dropzone.js"),
            custom_init=custom_init,
            custom_options=custom_options,
            nonce=_nonce(nonce),
        )

    @staticmethod
    def create(
        action: str = "",
        csrf: bool = False,
        action_view: str = "",
        id: str = "myDropzone",
        **kwargs: Any,
    ) -> Markup:
        """The drop zone element. Setting keywords (``in_form=True``) apply to it;
        other keywords are URL values for the ``action`` endpoint.

        The element carries a marker the init script finds it by (an element of
        the page's content with the same id does not take the zone over), and
        ``config()`` called after it carries its URL as well."""
        settings = {k: kwargs.pop(k) for k in list(kwargs) if k in KEYWORDS or k in ALIASES}
        zones = current_app.config.get(ZONES) or {}
        options = _options(
            "create()", _with_zone("create()", id if id in zones else None, settings)
        )
        if csrf:
            warnings.warn(
                "create(csrf=...) does nothing; set DROPZONE_ENABLE_CSRF instead.",
                DeprecationWarning,
                stacklevel=2,
            )
        if options.in_form:
            action_url = None
        elif action:
            action_url = get_url(action, **kwargs)
        elif action_view:
            warnings.warn(
                "create(action_view=...) is deprecated; use action=...",
                DeprecationWarning,
                stacklevel=2,
            )
            action_url = url_for(action_view, **kwargs)
        else:
            action_url = _current_url()
        if action_url is not None:
            g.setdefault("_dropzone_actions", {})[id] = action_url
        return render.zone_element(id, action_url, options.in_form)

    @staticmethod
    def style(css: str, id: Optional[str] = None, nonce: Optional[str] = None) -> Markup:
        """A ``<style>`` block for all zones, or for the zone ``id``."""
        return render.style_block(css, id=id, nonce=_nonce(nonce))

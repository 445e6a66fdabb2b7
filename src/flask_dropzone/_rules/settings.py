"""The ``DROPZONE_*`` settings: one table for names, defaults, checks and docs.

A setting ``DROPZONE_X`` is the keyword ``x`` of ``config()``, ``create()``,
``files()`` and ``save()``; :func:`resolve` merges the app config with those
keywords into one checked, immutable :class:`Options`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable, Mapping, Optional

from ..errors import SettingError
from . import metadata

PREFIX = "DROPZONE_"

#: Raster image types: what ``image`` allows. Not ``image/*``, which takes SVG, a document
#: that runs script when it is opened; ask for ``image/svg+xml`` by a custom type. The
#: extensions cover browsers that give HEIC, AVIF or ICO files no type.
RASTER_IMAGES = (
    "image/png,image/jpeg,image/gif,image/webp,image/avif,image/bmp,image/tiff,image/heic,"
    "image/heif,image/x-icon,image/vnd.microsoft.icon,.heic,.heif,.avif,.ico"
)

#: The images every current browser shows in an ``<img>``: what ``web_image`` allows, so a
#: thumbnail or a page can show any file the zone took. Not TIFF or HEIC (one browser only),
#: not BMP or ICO (shown, but rarely a picture anyone means to upload: uncompressed, icons),
#: not SVG (a document that runs script when opened). AVIF by name too, as in ``image``.
WEB_IMAGES = "image/jpeg,image/png,image/gif,image/webp,image/avif,.avif"

#: Flask-Dropzone's named file type groups, for ``DROPZONE_ALLOWED_FILE_TYPE``.
#: ``default`` accepts every file (2.0.0 listed five MIME families, which
#: refused files the browser cannot type, such as names without an extension).
allowed_file_extensions: Mapping[str, str] = {
    "default": "",
    "image": RASTER_IMAGES,
    "web_image": WEB_IMAGES,
    "audio": "audio/*",
    "video": "video/*",
    "text": "text/*",
    "app": "application/*",
}

#: Each group as a person reads it, for ``{{fileTypes}}`` (``default`` takes every file:
#: nothing to say). In another language, word DROPZONE_RULE_FILE_TYPE with ``{{acceptedFiles}}``.
GROUP_WORDS: Mapping[str, str] = {
    "default": "",
    "image": "Images (PNG, JPEG, GIF, WebP, AVIF, BMP, TIFF, HEIC/HEIF, ICO)",
    "web_image": "Images (JPEG, PNG, GIF, WebP, AVIF)",
    "audio": "Audio files",
    "video": "Video files",
    "text": "Text files",
    "app": "Application files (PDF, ZIP, office documents, ...)",
}

#: The image groups as a person reads them while ``strip_metadata`` is on (the types whose
#: metadata cannot be removed are not taken).
STRIPPED_GROUP_WORDS: Mapping[str, str] = {
    "image": "Images (PNG, JPEG, GIF, WebP, BMP, ICO)",
    "web_image": "Images (JPEG, PNG, GIF, WebP)",
}

#: Keywords Flask-Dropzone 2.0.0 accepted under another name.
ALIASES = {"max_file_exceeded": "max_file_exceed"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError(f"must be True or False, got {value!r}")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {value!r}")
    return int(number) if number.is_integer() else number


#: MiB beyond which a size was likely given in bytes (a TiB: larger than S3 takes in one
#: object and than any browser upload finishes).
_BYTES_LIKELY = 1024 * 1024


def _size_mib(value: Any) -> Optional[float]:
    if value is None:
        return None
    number = _number(value)
    if number <= 0:
        raise ValueError(f"must be a positive number of MiB or None, got {value!r}")
    if number > _BYTES_LIKELY:
        raise ValueError(
            f"is in MiB: {value!r} MiB is {number / 1024 / 1024:,.1f} TiB; for {number / 1e6:g} MB "
            f"write {number / 1024 / 1024:g}"
        )
    return number


#: Bytes per chunk below which a chunk size was likely given in MiB (a KiB: a 1 GiB file in a
#: million requests).
_MIB_LIKELY = 1024


def _chunk_bytes(value: Any) -> int:
    number = _count(1)(value)
    if number < _MIB_LIKELY:
        raise ValueError(
            f"is in bytes: {number} bytes per chunk would send a 1 GiB file in "
            f"{math.ceil(1024**3 / number):,} requests; "
            f"for {number} MiB write {number * 1024 * 1024}"
        )
    return number


def _size_seconds(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError(f"must be a positive number of seconds, got {value!r}")
    return number


def _count(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"must be a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, got {value!r}")
        return number

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        # "null" is how Flask-Dropzone 2.0.0 spelled "no limit".
        if value is None or value == "null":
            return None
        return check(value)

    return optional


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {value!r}")
    return value


# A form field name that is safe wherever Dropzone writes it (its fallback form is HTML).
_FIELD_NAME = re.compile(r"[\w.:\-\[\]]{1,100}")


def _field_name(value: Any) -> str:
    if not isinstance(value, str) or not _FIELD_NAME.fullmatch(value):
        raise ValueError(
            f"must be a form field name of letters, digits and _ . : - [ ], got {value!r}"
        )
    return value


def _naming_policy(value: Any) -> Any:
    if value in ("original", "random") or callable(value):
        return value
    raise ValueError(f"must be 'original', 'random' or a function of the file, got {value!r}")


def _optional_name(value: Any) -> Optional[str]:
    return None if value is None or value == "" else _name(value)


def _setting(default: Any, check: Callable[[Any], Any], doc: str) -> Any:
    return field(default=default, metadata={"check": check, "doc": doc})


@dataclass(frozen=True)
class Options:
    """Every setting of one zone, checked; attribute names are the keywords."""

    serve_local: bool = _setting(
        True, _bool, "Serve the vendored Dropzone.js; False loads it from jsDelivr."
    )
    max_file_size: Optional[float] = _setting(
        3, _size_mib, "Largest accepted file, in MiB (fractions allowed); None for no limit."
    )
    input_name: str = _setting(
        "file",
        _field_name,
        "Form field name of the files (Dropzone's paramName): letters, digits, _ . : - [ ].",
    )
    allowed_file_custom: bool = _setting(
        False, _bool, "Read ALLOWED_FILE_TYPE as your own list of types instead of a group name."
    )
    allowed_file_type: str = _setting(
        "default",
        _text,
        "A group (default, image, web_image, audio, video, text, app) or, with "
        "ALLOWED_FILE_CUSTOM, "
        "Dropzone's acceptedFiles list: '.ext', 'type/*' and 'type/subtype', comma-separated.",
    )
    max_files: Optional[int] = _setting(
        None,
        _optional(_count(1)),
        "Most files a zone takes (and a request carries); None for no limit.",
    )
    timeout: Optional[int] = _setting(
        None, _optional(_count(0)), "Upload request timeout in milliseconds; None or 0 for none."
    )
    redirect_view: Optional[str] = _setting(
        None, _optional_name, "Endpoint to go to once every file of the queue has been uploaded."
    )
    upload_multiple: bool = _setting(
        False, _bool, "Send several files in one request, as file[0], file[1], ..."
    )
    parallel_uploads: int = _setting(2, _count(1), "Requests (or files per request) at once.")
    enable_csrf: bool = _setting(
        False, _bool, "Send Flask-WTF's CSRF token with every upload (needs CSRFProtect)."
    )
    upload_action: str = _setting(
        "",
        _text,
        "In-form mode: URL or endpoint the files are uploaded to before the form is submitted; "
        "empty (or the form's own action) sends files and fields in one request.",
    )
    upload_on_click: bool = _setting(
        False, _bool, "Queue files and upload them when the UPLOAD_BTN_ID button is clicked."
    )
    upload_btn_id: str = _setting("upload", _name, "Id of the button that starts a click upload.")
    in_form: bool = _setting(
        False, _bool, "The zone sits inside your own <form>; files go with its fields on submit."
    )
    default_message: str = _setting(
        "Drop files here or click to upload. {{rules}}",
        _text,
        "Text shown in the empty zone; {{rules}} states the zone's rules (the three RULE_ "
        "settings).",
    )
    rule_file_type: str = _setting(
        "Allowed: {{fileTypes}}.",
        _text,
        "{{rules}}: the allowed types, in a typed zone; {{fileTypes}} names them (Images (JPEG, "
        "PNG, "
        "...) for a group, the extensions of a custom list).",
    )
    rule_file_size: str = _setting(
        "Max filesize: {{maxFilesize}} MiB.",
        _text,
        "{{rules}}: the largest file, with MAX_FILE_SIZE.",
    )
    rule_max_files: str = _setting(
        "Max files: {{maxFiles}}.", _text, "{{rules}}: the most files, with MAX_FILES."
    )
    invalid_file_type: str = _setting(
        "You can't upload files of this type. Allowed: {{acceptedFiles}}.",
        _text,
        "Error for a file of a refused type; {{acceptedFiles}} lists the allowed types.",
    )
    content_mismatch: str = _setting(
        "Its name says {{type}}, but its content is not.",
        _text,
        "Error for a file whose content contradicts its name (a program named .png); {{type}} is "
        "the kind its name gives (PNG).",
    )
    file_too_big: str = _setting(
        "File is too big ({{filesize}} MiB). Max filesize: {{maxFilesize}} MiB.",
        _text,
        "Error for a file over MAX_FILE_SIZE; {{filesize}} and {{maxFilesize}} are filled in.",
    )
    server_error: str = _setting(
        "Server error: {{statusCode}}", _text, "Error when the server answers with no message."
    )
    browser_unsupported: str = _setting(
        "Your browser does not support drag'n'drop file uploads.", _text, "Fallback text."
    )
    max_file_exceed: str = _setting(
        "You can't upload any more files (at most {{maxFiles}}).",
        _text,
        "Error for a file beyond MAX_FILES; {{maxFiles}} is filled in.",
    )
    cancel_upload: str = _setting("Cancel upload", _text, "Link that cancels an upload.")
    remove_file: str = _setting("Remove file", _text, "Link that removes a file from the zone.")
    cancel_confirmation: str = _setting(
        "Cancel the upload of this file?",
        _text,
        "Question before cancelling an upload (nothing is deleted).",
    )
    upload_canceled: str = _setting("Upload canceled", _text, "Error shown on a cancelled file.")
    file_uploaded: str = _setting(
        "{{filename}} uploaded.", _text, "Said to screen readers when a file is stored."
    )
    total_progress: str = _setting(
        "All files", _text, "Name of the zone's progress bar for the whole queue."
    )
    waiting_for_files: str = _setting(
        "The form is sent as soon as its files have arrived.",
        _text,
        "A form field's zone (DropzoneField): said when its form is submitted while files still "
        "upload.",
    )
    files_not_kept: str = _setting(
        "Add these files again, they were not kept: {{filenames}}.",
        _text,
        "In-form mode: shown in the zone when the form comes back with errors.",
    )
    upload_folder: Optional[str] = _setting(
        None, _optional_name, "Where save() stores files; None for <instance folder>/uploads."
    )
    stored_name: Any = _setting(
        "original",
        _naming_policy,
        "How save() names files: 'original' (the client's name, made safe), 'random' (32 hex "
        "characters and the extension) or a function of the file returning a name (made safe too).",
    )
    add_remove_links: bool = _setting(
        False,
        _bool,
        "A remove link under each file (Dropzone's addRemoveLinks), worded by REMOVE_FILE.",
    )
    delete_on_remove: bool = _setting(
        False,
        _bool,
        "A person's click on a stored file's remove link deletes it from the server "
        "(within DELETE_WINDOW seconds of its upload, by the client that uploaded it).",
    )
    delete_window: float = _setting(
        3600,
        _size_seconds,
        "Seconds after its upload that a file may be deleted from its remove link.",
    )
    chunking: bool = _setting(False, _bool, "Send files larger than CHUNK_SIZE in chunks.")
    chunk_size: int = _setting(8 * 1024 * 1024, _chunk_bytes, "Bytes per chunk (at least 1024).")
    parallel_chunk_uploads: bool = _setting(
        False, _bool, "Send a file's chunks in parallel (PARALLEL_UPLOADS at a time)."
    )
    retry_chunks: bool = _setting(True, _bool, "Send a failed chunk again.")
    resume: bool = _setting(
        True,
        _bool,
        "With CHUNKING: a file added again (after a reload, a crash, a failure) sends only the "
        "chunks the server does not hold yet, into the same upload.",
    )
    retry_chunks_limit: int = _setting(3, _count(0), "How many times a chunk is sent again.")
    chunk_folder: Optional[str] = _setting(
        None,
        _optional_name,
        "Where partial uploads live; None for <instance folder>/dropzone-chunks.",
    )
    chunk_expires: float = _setting(
        24 * 60 * 60, _size_seconds, "Seconds an idle partial upload is kept."
    )
    chunk_quota: Optional[float] = _setting(
        1024,
        _size_mib,
        "Most MiB of unfinished chunked uploads one client may have; None for no limit.",
    )
    unfinished_uploads: Optional[int] = _setting(
        100,
        _optional(_count(1)),
        "Most unfinished chunked and direct uploads one client may have at once; None for no "
        "limit.",
    )
    strip_metadata: bool = _setting(
        False,
        _bool,
        "Store images without location and device data: JPEG, PNG and WebP are stripped as "
        "they are stored (no Exif but the orientation, no XMP, IPTC, comments or text; the "
        "image data and colour profile byte for byte); TIFF, HEIC, AVIF and other images "
        "that cannot be stripped are refused.",
    )
    s3_direct: bool = _setting(
        False,
        _bool,
        "Browsers send the zone's files straight to the bucket (DROPZONE_STORAGE = 's3'); the app "
        "starts, judges and completes each upload. A zone in a form, and a form field, never do.",
    )

    @property
    def accepted_files(self) -> Optional[str]:
        """Dropzone's ``acceptedFiles`` for this zone; None accepts every file."""
        if self.allowed_file_custom:  # the app's own list: the server refuses the rest
            return self.allowed_file_type or None
        accepted = allowed_file_extensions[self.allowed_file_type]
        if self.strip_metadata:  # the browser refuses what the server could not strip
            accepted = metadata.strippable(accepted)
        return accepted or None


KEYWORDS = tuple(f.name for f in fields(Options))
_TYPE_RULE = re.compile(r"\.[^\s,/\\]+|[\w.+-]+/(\*|[\w.+-]+)")


def setting_name(keyword: str) -> str:
    return PREFIX + keyword.upper()


def canonical_keywords(overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Map keyword arguments to setting keywords; unknown ones are an error, not ignored."""
    result = {}
    for key, value in overrides.items():
        name = ALIASES.get(key, key)
        if name not in KEYWORDS:
            close = difflib.get_close_matches(name, KEYWORDS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{where} got an unknown setting keyword {key!r}.{hint}")
        result[name] = value
    return result


def check_keywords(
    overrides: Mapping[str, Any], where: str, form_field: bool = False
) -> dict[str, Any]:
    """Each keyword's value checked on its own (what it means beside the app's settings is
    judged when they are known): for settings given before there is an app. A
    ``form_field``'s files go with its form: ``s3_direct=True`` is an error there."""
    checked = canonical_keywords(overrides, where)
    checks = {f.name: f.metadata["check"] for f in fields(Options)}
    for name, value in checked.items():
        try:
            value = checks[name](value)
        except ValueError as error:
            raise SettingError(f"{where}: {name}= {error}") from None
        if form_field and name == "s3_direct" and value:
            raise SettingError(
                f"{where}: s3_direct=True: a form field's files are kept pending and claimed "
                "by its view, never sent straight to the bucket."
            )
    return checked


_NAMES = tuple(setting_name(keyword) for keyword in KEYWORDS)
_resolved: dict[Any, Options] = {}


def resolve(
    config: Mapping[str, Any], overrides: Mapping[str, Any] = {}, where: str = ""
) -> Options:
    """Check the app config and the keywords given to ``where`` and merge them.

    Every upload request resolves its options, so recent answers are remembered, by the
    values they were made from (and their types: Markup("<b>") == "<b>" but renders
    differently); a value that cannot be a key (a list) is resolved afresh each time."""
    values = (*map(config.get, _NAMES), *overrides.items())
    key = (values, tuple(map(type, values)), tuple(map(type, overrides.values())))
    if not _hashable(key):
        return _resolve(config, overrides, where)
    options = _resolved.get(key)
    if options is None:
        if len(_resolved) > 256:
            _resolved.clear()
        options = _resolved[key] = _resolve(config, overrides, where)
    return options


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _resolve(config: Mapping[str, Any], overrides: Mapping[str, Any], where: str) -> Options:
    overrides = canonical_keywords(overrides, where or "resolve()")
    values = {}
    for f in fields(Options):
        if f.name in overrides:
            raw, source = overrides[f.name], f"{f.name}="
        else:
            raw, source = config.get(setting_name(f.name), f.default), setting_name(f.name)
        try:
            values[f.name] = f.metadata["check"](raw)
        except ValueError as error:
            raise SettingError(f"{source} {error}") from None
    _check_file_type(values)
    if values["s3_direct"] and values["in_form"] and "s3_direct" in overrides:
        raise SettingError(
            f"{where or 'resolve()'}: s3_direct=True cannot go with in_form: a zone in a form "
            "sends its files with the form, to its view."
        )
    _check_together(values)
    return Options(**values)


def _check_together(values: Mapping[str, Any]) -> None:
    """Settings that cannot work together, of those in ``values``."""
    quota, largest = values.get("chunk_quota"), values.get("max_file_size")
    if values.get("chunking") and quota is not None and largest is not None and quota < largest:
        raise SettingError(
            f"DROPZONE_CHUNK_QUOTA ({quota} MiB) is below DROPZONE_MAX_FILE_SIZE ({largest} MiB): "
            "a file between the two could never be uploaded in chunks."
        )
    if values.get("chunking") and values.get("upload_multiple"):
        raise SettingError(
            "DROPZONE_CHUNKING and DROPZONE_UPLOAD_MULTIPLE cannot both be on: "
            "Dropzone sends chunked files one per request."
        )


def check_alone(
    overrides: Mapping[str, Any], where: str, form_field: bool = False
) -> dict[str, Any]:
    """Keywords given before there is an app (a form field's, where its form is defined):
    each value, and what the values given say together; what they mean beside the app's
    settings is judged when these are known. An allowed type may be a list of the app's
    own when its ``allowed_file_custom`` is not given (the app may set it)."""
    checked = check_keywords(overrides, where, form_field)
    values = {
        f.name: f.metadata["check"](checked[f.name]) for f in fields(Options) if f.name in checked
    }
    try:
        if "allowed_file_type" in values:
            custom = values.get("allowed_file_custom")
            kind = {"allowed_file_type": values["allowed_file_type"]}
            if custom is None and values["allowed_file_type"] not in allowed_file_extensions:
                try:
                    _check_file_type({**kind, "allowed_file_custom": True})
                except SettingError:
                    _check_file_type({**kind, "allowed_file_custom": False})  # the group's message
            else:
                _check_file_type({**kind, "allowed_file_custom": bool(custom)})
        if "chunking" in values:
            _check_together(values)
    except SettingError as error:
        raise SettingError(f"{where}: {error}") from None
    return checked


#: The setting that names zones: ``{"avatar": {"allowed_file_type": "image", ...}}``.
ZONES = PREFIX + "ZONES"


def zone_keywords(config: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    """The keywords of the zone ``name`` of ``DROPZONE_ZONES``; an unknown name is an error
    (the name comes from the app's code, never from a request)."""
    zones = config.get(ZONES) or {}
    if name not in zones:
        known = ", ".join(repr(zone) for zone in zones) or "none"
        raise SettingError(f"{where}: no zone {name!r} in {ZONES} (it names {known}).")
    return dict(zones[name])


def check_names(config: Mapping[str, Any], known: Iterable[str]) -> None:
    """A ``DROPZONE_*`` setting the extension does not know is a typo (``DROPZONE_MAX_FILESIZE``):
    an error naming it, with the setting it was likely meant to be, not a default silently kept."""
    names = set(known)
    for key in config:
        if isinstance(key, str) and key.startswith(PREFIX) and key not in names:
            close = difflib.get_close_matches(key, sorted(names), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise SettingError(f"{key} is not a Flask-Dropzone setting.{hint}")


def check_zones(config: Mapping[str, Any]) -> None:
    """Every named zone's settings must work: checked at start-up, naming the zone."""
    zones = config.get(ZONES) or {}
    if not isinstance(zones, Mapping):
        raise SettingError(f"{ZONES} must be a dict of zone names to their settings, got {zones!r}")
    for name, keywords in zones.items():
        where = f"{ZONES}[{name!r}]"
        if not isinstance(name, str) or not isinstance(keywords, Mapping):
            raise SettingError(f"{where} must name a dict of setting keywords")
        try:
            resolve(config, canonical_keywords(keywords, where), where)
        except TypeError as error:
            raise SettingError(str(error)) from None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_folders(upload_folder: str, chunk_folder: str) -> None:
    """The chunk folder is the chunk store's alone: it may neither hold nor sit in the upload
    folder."""
    uploads, chunks = os.path.realpath(upload_folder), os.path.realpath(chunk_folder)
    if _inside(uploads, chunks) or _inside(chunks, uploads):
        raise SettingError(
            f"DROPZONE_CHUNK_FOLDER ({chunk_folder!r}) and DROPZONE_UPLOAD_FOLDER "
            f"({upload_folder!r}) "
            "must be apart: neither may hold the other (the sweep removes what is in the chunk "
            "folder)."
        )


def _check_file_type(values: dict[str, Any]) -> None:
    kind = values["allowed_file_type"]
    if not values["allowed_file_custom"]:
        if kind not in allowed_file_extensions:
            keys = ", ".join(allowed_file_extensions)
            raise SettingError(
                f"DROPZONE_ALLOWED_FILE_TYPE {kind!r} is not a known type; use one of {keys} "
                "or set DROPZONE_ALLOWED_FILE_CUSTOM = True to list your own types."
            )
        return
    rules = [rule.strip() for rule in kind.split(",") if rule.strip()]
    for rule in rules:
        if not _TYPE_RULE.fullmatch(rule):
            raise SettingError(
                f"DROPZONE_ALLOWED_FILE_TYPE: {rule!r} is not a file type; write '.ext', "
                "'type/*' or 'type/subtype', separated by commas."
            )
    values["allowed_file_type"] = ",".join(rules)

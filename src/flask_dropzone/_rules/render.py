"""HTML the template helpers emit, as pure functions of their inputs.

Every value reaching HTML is escaped and every value reaching JavaScript is
JSON inside a ``<script type="application/json">`` data block, read by the
static ``flask-dropzone.js``; only ``custom_init`` and ``custom_options`` are
raw JavaScript, because they are the developer's own code.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from .. import _vendor
from . import messages
from .settings import Options
from .zonerules import HEADER as RULES_HEADER

CDN = "https://cdn.jsdelivr.net/npm/dropzone@{version}/dist/{path}"
#: Dropzone 6's dist files, vendored and on the CDN.
DIST_FILES = {"js": "dropzone-min.js", "css": "dropzone.css"}
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
# Dropzone inserts these three messages with innerHTML; the others with textContent.
_HTML_MESSAGES = {"dictDefaultMessage", "dictCancelUpload", "dictRemoveFile"}
# Dropzone writes the unit after the number with innerHTML: constants only.
FILE_SIZE_UNITS = {"tb": "TiB", "gb": "GiB", "mb": "MiB", "kb": "KiB", "b": "bytes"}


def _attrs(**attributes: Any) -> Markup:
    """Render HTML attributes; None drops one, True writes a bare one."""
    parts = []
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{escape(value)}"')
    return Markup("".join(parts))


def cdn_asset(version: str, kind: str) -> tuple[str, Optional[str]]:
    """URL of Dropzone's ``js`` or ``css`` on jsDelivr, with its SRI hash when pinned.

    Dropzone 6 moved its files: 5.x has ``dist/min/dropzone.min.js``, 6.x has
    ``dist/dropzone-min.js``.
    """
    if not _VERSION.fullmatch(version):
        raise ValueError(f"version must look like '6.3.5', got {version!r}")
    if int(version.split(".")[0]) >= 6:
        name = path = DIST_FILES[kind]
    else:
        name = {"js": "dropzone.min.js", "css": "dropzone.min.css"}[kind]
        path = "min/" + name
    integrity = _vendor.INTEGRITY.get(name) if version == _vendor.VERSION else None
    return CDN.format(version=version, path=path), integrity


def stylesheet(href: str, integrity: Optional[str] = None, nonce: Optional[str] = None) -> Markup:
    crossorigin = "anonymous" if integrity else None
    attrs = _attrs(
        rel="stylesheet", href=href, integrity=integrity, crossorigin=crossorigin, nonce=nonce
    )
    return Markup(f"<link{attrs}>\n")


def script(src: str, integrity: Optional[str] = None, nonce: Optional[str] = None) -> Markup:
    crossorigin = "anonymous" if integrity else None
    attrs = _attrs(src=src, integrity=integrity, crossorigin=crossorigin, nonce=nonce)
    return Markup(f"<script{attrs}></script>\n")


def dropzone_options(
    options: Options, csrf_token: Optional[str] = None, rules: Optional[str] = None
) -> dict[str, Any]:
    """The zone's settings as Dropzone.js options; ``rules``, the zone's signed rules, go
    with every upload (see :mod:`.zonerules`)."""
    result: dict[str, Any] = {
        "paramName": options.input_name,
        "maxFilesize": options.max_file_size,
        "acceptedFiles": options.accepted_files,
        "maxFiles": options.max_files,
        "timeout": options.timeout or None,
        "uploadMultiple": options.upload_multiple,
        "parallelUploads": options.parallel_uploads,
        "autoProcessQueue": not (options.upload_on_click or options.in_form),
        "dictDefaultMessage": options.default_message,
        "dictFallbackMessage": options.browser_unsupported,
        "dictInvalidFileType": options.invalid_file_type,
        "dictFileTooBig": options.file_too_big,
        "dictResponseError": options.server_error,
        "dictMaxFilesExceeded": options.max_file_exceed,
        "dictCancelUpload": options.cancel_upload,
        "dictRemoveFile": options.remove_file,
        "dictCancelUploadConfirmation": options.cancel_confirmation,
        "dictUploadCanceled": options.upload_canceled,
        "chunking": options.chunking,
        "chunkSize": options.chunk_size,
        "parallelChunkUploads": options.parallel_chunk_uploads,
        "retryChunks": options.retry_chunks,
        "retryChunksLimit": options.retry_chunks_limit,
        "addRemoveLinks": options.add_remove_links or options.delete_on_remove,
        # Sizes in the binary units of MAX_FILE_SIZE and of the messages: "5.6 MiB".
        "filesizeBase": 1024,
        "dictFileSizeUnits": FILE_SIZE_UNITS,
    }
    for key, value in result.items():
        if key.startswith("dict") and isinstance(value, str):
            result[key] = messages.fill(value, options)
    for key in _HTML_MESSAGES:
        # escape() keeps Markup as it is: a developer's Markup message is trusted HTML.
        result[key] = str(escape(result[key]))
    headers = {}
    if csrf_token is not None:
        headers["X-CSRF-Token"] = csrf_token
    if rules is not None:
        headers[RULES_HEADER] = rules
    if headers:
        result["headers"] = headers
    return result


def html_safe_url(url: Optional[str]) -> Optional[str]:
    """``url`` with the characters that could end an HTML attribute percent-encoded.

    Dropzone writes its ``url`` into HTML in its fallback form; the encoded URL
    names the same resource."""
    if url is None:
        return None
    return url.translate(_URL_UNSAFE)


_URL_UNSAFE = str.maketrans({char: f"%{ord(char):02X}" for char in "\"'<>` \t\r\n"})


def zone_config(
    options: Options,
    *,
    id: str,
    url: Optional[str] = None,
    redirect_url: Optional[str] = None,
    upload_url: Optional[str] = None,
    csrf: Optional[Mapping[str, str]] = None,
    rules: Optional[str] = None,
    rules_url: Optional[str] = None,
    rules_expires: Optional[float] = None,
    zone_key: str = "",
    delete_url: Optional[str] = None,
    cancel_url: Optional[str] = None,
    status_url: Optional[str] = None,
    direct_urls: Optional[Mapping[str, str]] = None,
    existing: Sequence[Mapping[str, Any]] = (),
    not_kept: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything ``flask-dropzone.js`` needs to set one zone up; ``not_kept`` names the
    files of an in-form submission that came back (:func:`.receive.not_kept`); ``direct_urls``
    the direct-upload endpoints (``start``, ``urls``, ``complete``, ``abort``, ``status``)
    for a zone that uploads direct (``s3_direct``), else None; ``rules_url`` where the signed
    ``rules`` are renewed before ``rules_expires`` seconds pass; ``zone_key`` a stable name of
    the zone's rules, which the browser keys what it remembers of the zone's uploads by."""
    return {
        "id": id,
        "url": html_safe_url(url),
        "options": dropzone_options(options, csrf["token"] if csrf else None, rules),
        "redirectUrl": redirect_url,
        "uploadOnClick": options.upload_on_click,
        "uploadButton": options.upload_btn_id,
        "inForm": options.in_form,
        "uploadUrl": html_safe_url(upload_url),
        "csrf": dict(csrf) if csrf else None,
        "deleteUrl": html_safe_url(delete_url),
        "cancelUrl": html_safe_url(cancel_url),
        "statusUrl": html_safe_url(status_url),
        "direct": {name: html_safe_url(value) for name, value in direct_urls.items()}
        if direct_urls
        else None,
        "rulesUrl": html_safe_url(rules_url),
        "rulesExpires": rules_expires,
        "zoneKey": zone_key,
        "resume": options.resume,
        "chunkExpires": options.chunk_expires,
        "existing": list(existing),
        "texts": {
            "fileUploaded": options.file_uploaded,
            "totalProgress": options.total_progress,
            "filesNotKept": options.files_not_kept,
            "waiting": options.waiting_for_files,
        },
        "notKept": list(not_kept),
    }


def config_block(
    config: Mapping[str, Any],
    *,
    init_script_url: str,
    custom_init: str = "",
    custom_options: str = "",
    nonce: Optional[str] = None,
) -> Markup:
    """The zone's JSON data block, its custom code if any, and the init script tag."""
    parts = []
    if custom_init.strip() or custom_options.strip():
        # Trusted developer JavaScript, inserted as written (docs: Receiving files in a view).
        parts.append(
            f"<script{_attrs(nonce=nonce)}>(function (ns) {{\n"
            f"(ns.hooks = ns.hooks || {{}})[{htmlsafe_json_dumps(config['id'])}] = {{\n"
            f"options: {{\n{custom_options}\n}},\n"
            f"init: function () {{\n{custom_init}\n}}\n"
            "};\n})(window.flaskDropzone = window.flaskDropzone || {});</script>\n"
        )
    attrs = _attrs(type="application/json", data_dropzone_config=True, nonce=nonce)
    parts.append(f"<script{attrs}>{htmlsafe_json_dumps(config)}</script>\n")
    # Emitted with every zone: the script sets each zone up once however often it loads.
    parts.append(script(init_script_url, nonce=nonce))
    return Markup("".join(parts))


def zone_element(id: str, action: Optional[str], in_form: bool, **extra: Any) -> Markup:
    """The drop zone: a ``<form>`` posting to ``action``, or a ``<div>`` inside your form;
    ``data-flask-dropzone`` marks it as the extension's. ``extra``: more attributes of the
    ``<div>`` (a form field's, as WTForms writes them), a ``class`` added to ``dropzone``."""
    if in_form:
        classes = " ".join(
            ["dropzone", *filter(None, [extra.pop("class", None), extra.pop("class_", None)])]
        )
        extra = {
            k: v
            for k, v in extra.items()
            if k.rstrip("_").replace("_", "-") not in ("id", "data-flask-dropzone")
        }
        return Markup(
            f"<div{_attrs(class_=classes, id=id, data_flask_dropzone=True, **extra)}></div>"
        )
    attrs = _attrs(
        action=html_safe_url(action),
        method="post",
        class_="dropzone",
        id=id,
        enctype="multipart/form-data",
        data_flask_dropzone=True,
    )
    return Markup(f"<form{attrs}></form>")


def css_identifier(value: str) -> str:
    """Escape ``value`` for use as a CSS identifier (like the browser's CSS.escape)."""
    out = []
    for index, char in enumerate(value):
        code = ord(char)
        if code == 0:
            out.append("\ufffd")
        elif (
            0x1 <= code <= 0x1F
            or code == 0x7F
            or (
                char.isdigit()
                and char.isascii()
                and (index == 0 or (index == 1 and value[0] == "-"))
            )
        ):
            out.append(f"\\{code:x} ")
        elif code >= 0x80 or char in "-_" or char.isalnum():
            out.append(char if not (index == 0 and value == "-") else "\\-")
        else:
            out.append("\\" + char)
    return "".join(out)


def style_block(css: str, id: Optional[str] = None, nonce: Optional[str] = None) -> Markup:
    """A ``<style>`` for ``.dropzone`` (or one zone); ``</`` cannot close the element early."""
    selector = ".dropzone" if id is None else f".dropzone#{css_identifier(id)}"
    body = f"{selector}{{{css}}}".replace("</", "<\\/")
    return Markup(f"<style{_attrs(nonce=nonce)}>\n{body}\n</style>")

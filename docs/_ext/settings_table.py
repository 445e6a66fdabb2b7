"""The rows of the settings reference, read from the code: no hand-kept copy.

Zone settings are the fields of ``flask_dropzone._rules.settings.Options`` (name, keyword,
default and the ``doc`` of their metadata); app-wide settings are the other ``DROPZONE_*``
names ``init_app`` sets, each meant by the ``#:`` comment of the constant (or dataclass
field) that names it. Where a setting acts (the browser, the server or both) is read from
where the package's code reads it. Plain Python, no Sphinx: tests/docs/ imports it too.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from flask import Flask

import flask_dropzone
from flask_dropzone._rules import settings, storage_settings

PACKAGE = Path(flask_dropzone.__file__).parent
#: Modules that check the settings themselves: reading a value there is not acting on it.
SETTINGS_MODULES = {"_rules/settings.py", "_rules/storage_settings.py"}
#: Modules that only write the page (its HTML, its configuration, the words it shows).
PAGE_MODULES = {"_rules/render.py", "_rules/messages.py"}
BROWSER, SERVER = "browser", "server"


@dataclass(frozen=True)
class Row:
    name: str  #: DROPZONE_X
    keyword: str  #: x, or "" for an app-wide setting
    default: str  #: the default as Python writes it
    meaning: str
    where: str  #: browser, server or both


def literal(value: Any) -> str:
    """A default as a reader writes it in Python (strings in double quotes, as Flask's docs)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def app_defaults() -> dict[str, Any]:
    """Every ``DROPZONE_*`` setting as ``init_app`` sets it on a new app."""
    app = Flask("settings_reference")
    flask_dropzone.Dropzone(app)
    return {key: value for key, value in app.config.items() if key.startswith(settings.PREFIX)}


def zone_rows() -> list[Row]:
    """A row per zone setting (an ``Options`` field), in the order the code gives them."""
    where = where_read()
    rows = []
    for field in fields(settings.Options):
        default = field.default if field.default is not MISSING else None
        rows.append(
            Row(
                settings.setting_name(field.name),
                field.name,
                literal(default),
                field.metadata["doc"],
                side(where.get(field.name, set())),
            )
        )
    return rows


def app_rows() -> list[Row]:
    """A row per app-wide setting: the ``DROPZONE_*`` names ``init_app`` sets that are no
    zone keyword; a name no comment in the code explains is an error, never a blank."""
    zone = {settings.setting_name(f.name) for f in fields(settings.Options)}
    meanings = app_meanings()
    where = where_read()
    rows = []
    for name, value in app_defaults().items():
        if name in zone:
            continue
        if not meanings.get(name):
            raise LookupError(f"{name}: no #: comment in the code says what it means")
        rows.append(Row(name, "", literal(value), meanings[name], side(where.get(name, set()))))
    return rows


def side(sides: set[str]) -> str:
    """``both``, ``browser`` or ``server`` (a setting read nowhere acts on the server)."""
    if sides >= {BROWSER, SERVER}:
        return "both"
    return BROWSER if sides == {BROWSER} else SERVER


# What each app-wide setting means ---------------------------------------------------------


def comments(path: Path) -> dict[int, str]:
    """The ``#:`` comment meant for the statement on each line: the comment lines just above
    it, or the one at the end of the line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[int, str] = {}
    above: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#:"):
            above.append(stripped[2:].strip())
            continue
        trailing = re.search(r"#:\s*(.+)$", line)
        text = " ".join(above) or (trailing.group(1).strip() if trailing else "")
        if text:
            found[number] = text
        above = []
    return found


@functools.lru_cache(maxsize=None)
def app_meanings() -> dict[str, str]:
    """Each app-wide setting's meaning: the comment on the module constant naming it (in
    any module of the package), or, for a storage setting, on its field of ``Storage``."""
    meanings: dict[str, str] = {}
    for module_info in pkgutil.walk_packages(flask_dropzone.__path__, "flask_dropzone."):
        module = importlib.import_module(module_info.name)
        path = Path(module.__file__ or "")
        if path.suffix != ".py":
            continue
        said = comments(path)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                value = getattr(module, node.targets[0].id, None)
                if isinstance(value, str) and value.startswith(settings.PREFIX):
                    if node.lineno in said:
                        meanings.setdefault(value, said[node.lineno])
    meanings.update(storage_meanings())
    return meanings


def storage_meanings() -> dict[str, str]:
    """The storage settings (``storage_settings.DEFAULTS``) by their fields of ``Storage``:
    ``DROPZONE_S3_BUCKET`` is ``s3_bucket``; ``DROPZONE_STORAGE``, the kind of store, ``kind``."""
    path = Path(storage_settings.__file__)
    said = comments(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    by_field = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == storage_settings.Storage.__name__:
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    by_field[item.target.id] = said.get(item.lineno, "")
    meanings = {}
    for name in storage_settings.DEFAULTS:
        suffix = name[len(settings.PREFIX) :].lower()
        meanings[name] = by_field.get("kind" if suffix == "storage" else suffix, "")
    return meanings


# Where each setting acts ------------------------------------------------------------------


@dataclass
class _Function:
    module: str
    name: str
    node: ast.AST
    page: bool


@functools.lru_cache(maxsize=None)
def where_read() -> dict[str, set[str]]:
    """For each zone keyword and app-wide setting name, where the code reads it: ``browser``
    when a function writing the page reads it (the template helpers and what returns
    ``Markup``, the rendering and wording modules, and the rules these call), ``server``
    when any other function does (receiving, judging, storing, the endpoints)."""
    functions, modules = _functions()
    keywords = {f.name for f in fields(settings.Options)}
    properties = _option_properties(keywords)
    constants = _setting_constants()
    page_calls = set().union(*(_calls(f.node) for f in functions if f.page))
    server_calls = set().union(*(_calls(f.node) for f in functions if not f.page))
    where: dict[str, set[str]] = {}
    for function in functions:
        sides = _sides(function, page_calls, server_calls)
        for name in _reads(function.node, keywords, properties, constants, modules):
            where.setdefault(name, set()).update(sides)
    return where


def _sides(function: _Function, page_calls: set[str], server_calls: set[str]) -> set[str]:
    if function.page:
        return {BROWSER}
    short = function.name.rsplit(".", 1)[-1]
    if function.module.startswith("_rules/") and short in page_calls:
        return {BROWSER} | ({SERVER} if short in server_calls else set())
    return {SERVER}


def _functions() -> tuple[list[_Function], set[str]]:
    """Every function and method of the package but the settings' own checks, and the names
    its modules import (``chunked.cancel_upload`` is a function, not a setting)."""
    functions: list[_Function] = []
    modules: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module in SETTINGS_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        _collect(tree.body, "", module, functions)
    return functions, modules


def _collect(body: list[ast.stmt], prefix: str, module: str, out: list[_Function]) -> None:
    for item in body:
        if isinstance(item, ast.ClassDef):
            _collect(item.body, f"{prefix}{item.name}.", module, out)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            returns = item.returns
            markup = (isinstance(returns, ast.Name) and returns.id == "Markup") or (
                isinstance(returns, ast.Constant) and returns.value == "Markup"
            )
            out.append(
                _Function(module, prefix + item.name, item, module in PAGE_MODULES or markup)
            )


def _option_properties(keywords: set[str]) -> dict[str, set[str]]:
    """The properties of ``Options`` (``accepted_files``) and the fields each reads."""
    tree = ast.parse((PACKAGE / "_rules/settings.py").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == settings.Options.__name__:
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[item.name] = {
                        n.attr
                        for n in ast.walk(item)
                        if isinstance(n, ast.Attribute) and n.attr in keywords
                    }
    return found


def _setting_constants() -> dict[str, str]:
    """Names of the package's constants that hold an app-wide setting's name (``ZONES``)."""
    names = {}
    for module_info in pkgutil.walk_packages(flask_dropzone.__path__, "flask_dropzone."):
        module = importlib.import_module(module_info.name)
        for attribute, value in vars(module).items():
            if attribute.isupper() and isinstance(value, str) and value.startswith("DROPZONE_"):
                names.setdefault(attribute, value)
    names.pop("PREFIX", None)
    return names


def _calls(node: ast.AST) -> set[str]:
    called = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            called.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return called


def _reads(
    node: ast.AST,
    keywords: set[str],
    properties: dict[str, set[str]],
    constants: dict[str, str],
    modules: set[str],
) -> set[str]:
    """The settings a function reads: an option's attribute (or a property made of some),
    a ``"DROPZONE_X"`` text, or a constant naming an app-wide setting."""
    read: set[str] = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Attribute) and isinstance(item.ctx, ast.Load):
            if isinstance(item.value, ast.Name) and item.value.id in modules:
                if item.attr in constants:  # signing.APP_ID
                    read.add(constants[item.attr])
                continue
            if item.attr in keywords:
                read.add(item.attr)
            read.update(properties.get(item.attr, ()))
        elif isinstance(item, ast.Name) and item.id in constants:
            read.add(constants[item.id])
        elif isinstance(item, ast.Constant) and isinstance(item.value, str):
            if item.value.startswith(settings.PREFIX):
                keyword = item.value[len(settings.PREFIX) :].lower()
                read.add(keyword if keyword in keywords else item.value)
    return read


# The refusals ------------------------------------------------------------------------------


def refusals() -> list[tuple[str, int, str]]:
    """Each refusal ``flask_dropzone`` exports: its name, status and default message (empty
    when the message is given where it is raised), the base class first."""
    found = []
    for name in flask_dropzone.__all__:
        value = getattr(flask_dropzone, name)
        if isinstance(value, type) and issubclass(value, flask_dropzone.UploadRefused):
            default = inspect.signature(value.__init__).parameters.get("description")
            message = default.default if default and default.default is not default.empty else ""
            found.append((name, value.code, message))
    return sorted(found, key=lambda row: (row[0] != "UploadRefused", row[1], row[0]))

"""Assemble the zone script's modules (``js/``) into the one file the extension serves.

The modules are ES modules (ESLint checks them as such) of a plain form: they import names
with ``import { a, b } from "./path.js";`` and export declarations (``export function f``,
``export var x``). The served ``src/flask_dropzone/static/flask-dropzone.js`` stays a classic
script, loaded and run as it always was: the modules in import order from ``js/main.js`` (each
after the modules it imports), without their import lines and ``export`` words, in one strict
function. No bundler and no npm: run ``make js`` (or this script) after editing a module;
``--check`` fails when the checked-in file is not what the modules give (the suite checks
it too: tests/rules/test_zone_script.py).
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "js"
SERVED = ROOT / "src" / "flask_dropzone" / "static" / "flask-dropzone.js"
ENTRY = "main.js"

IMPORT = re.compile(r'^import \{([^}]*)\} from "(\.{1,2}/[^"]+\.js)";\n', re.M)
EXPORT = re.compile(r"^export (?=(?:function|var|const|let) )", re.M)
EXPORTED = re.compile(r"^export (?:function|var|const|let) (\w+)", re.M)
DECLARED = re.compile(r"^(?:export )?(?:function|var|const|let) (\w+)", re.M)
ANY_EXPORT_OR_IMPORT = re.compile(r"^(?:export|import)\b", re.M)

HEAD = """\
/* Flask-Dropzone: sets up every zone described by a
 * <script type="application/json" data-dropzone-config> block on the page.
 * Served as a static file so that pages need no inline script (strict CSP).
 * Assembled by scripts/build_js.py from the modules in js/: edit those, then `make js`.
 */
(function () {
  "use strict";
"""
TAIL = "})();\n"


class ModuleError(ValueError):
    """A module the assembly cannot take: the message names it and says why."""


def _names(listed: str) -> list[str]:
    names = [name.strip() for name in listed.split(",") if name.strip()]
    for name in names:
        if not re.fullmatch(r"\w+", name):
            raise ModuleError(f"import {name!r}: import names as they are exported (no 'as')")
    return names


def _imported(name: str, where: str) -> str:
    path = posixpath.normpath(posixpath.join(posixpath.dirname(name), where))
    if path.startswith("../"):
        raise ModuleError(f"{name}: {where} is outside js/")
    return path


def order(sources: Path) -> list[tuple[str, str]]:
    """Each module's name (its path in ``sources``) and text, each after the modules it imports."""
    done: dict[str, str] = {}
    on_the_way: list[str] = []

    def visit(name: str) -> None:
        if name in on_the_way:
            raise ModuleError(f"{name}: imports itself through {' -> '.join(on_the_way)}")
        if name in done:
            return
        path = sources / name
        if not path.is_file():
            raise ModuleError(f"{on_the_way[-1]}: no module {name}")
        on_the_way.append(name)
        text = path.read_text(encoding="utf-8")
        body(name, text)  # a module of another form is refused before what it imports is read
        for listed, where in IMPORT.findall(text):
            imported = _imported(name, where)
            visit(imported)
            exported = EXPORTED.findall(done[imported])
            for wanted in _names(listed):
                if wanted not in exported:
                    raise ModuleError(f"{name}: {imported} exports no {wanted}")
        on_the_way.pop()
        done[name] = text

    visit(ENTRY)
    every = sorted(path.relative_to(sources).as_posix() for path in sources.rglob("*.js"))
    unused = [name for name in every if name not in done]
    if unused:
        raise ModuleError(f"{', '.join(unused)}: imported by no module")
    return list(done.items())


def body(name: str, text: str) -> str:
    """The module's text as the assembled script has it: no imports, no ``export`` words."""
    code = EXPORT.sub("", IMPORT.sub("", text))
    stray = ANY_EXPORT_OR_IMPORT.search(code)
    if stray:
        line = code[stray.start() :].split("\n", 1)[0]
        raise ModuleError(
            f"{name}: {line!r}: only `import {{ ... }} from` and `export` declarations"
        )
    return code


def assemble(sources: Path = SOURCES) -> str:
    modules = order(sources)
    seen: dict[str, str] = {}
    parts = [HEAD]
    for name, text in modules:
        for declared in DECLARED.findall(text):
            if declared in seen:
                raise ModuleError(f"{name}: {declared} is declared by {seen[declared]} too")
            seen[declared] = name
        parts.append(f"\n// js/{name}\n{body(name, text)}")
    parts.append(TAIL)
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the served file differs")
    args = parser.parse_args()
    try:
        text = assemble()
    except ModuleError as error:
        print(f"js/{error}", file=sys.stderr)
        return 1
    if args.check:
        if SERVED.read_text(encoding="utf-8") != text:
            print(
                f"{SERVED.relative_to(ROOT)} is not the modules in js/: run make js",
                file=sys.stderr,
            )
            return 1
        return 0
    SERVED.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

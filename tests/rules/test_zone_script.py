"""The served zone script is its modules (js/) assembled by scripts/build_js.py: the checked-in
file cannot drift from them, and modules the assembly could not join correctly are refused."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from support import ROOT

SCRIPT = ROOT / "scripts" / "build_js.py"

_spec = importlib.util.spec_from_file_location("build_js", SCRIPT)
build_js = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_js)


def modules(tmp_path, **texts):
    """A js/ folder of the given modules (``core__a`` is ``core/a.js``)."""
    for name, text in texts.items():
        path = tmp_path / (name.replace("__", "/") + ".js")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_served_script_is_its_modules_assembled():
    served = (ROOT / "src" / "flask_dropzone" / "static" / "flask-dropzone.js").read_text()
    assert served == build_js.assemble(), "js/ changed without `make js`"
    assert subprocess.run([sys.executable, str(SCRIPT), "--check"]).returncode == 0


def test_each_feature_is_a_module_the_zone_sets_up():
    """Every module in js/features/ is a feature of one shape, listed in the core's FEATURES."""
    zone = (ROOT / "js" / "core" / "zone.js").read_text()
    listed = re.search(r"var FEATURES = \[([^\]]*)\]", zone).group(1).replace("\n", " ")
    features = [name.strip() for name in listed.split(",") if name.strip()]
    exported = []
    for path in sorted((ROOT / "js" / "features").glob("*.js")):
        exported += re.findall(r"^export var (\w+) = \{\n  applies: ", path.read_text(), re.M)
    assert sorted(features) == sorted(exported)


def test_modules_come_after_the_modules_they_import(tmp_path):
    sources = modules(
        tmp_path,
        main='import { b } from "./core/b.js";\nb();\n',
        core__b='import { a } from "./a.js";\n\nexport function b() {\n  return a;\n}\n',
        core__a="export var a = 1;\n",
    )
    assembled = build_js.assemble(sources)
    assert [name for name, _ in build_js.order(sources)] == ["core/a.js", "core/b.js", "main.js"]
    assert "import" not in assembled and "export" not in assembled
    assert "\n// js/core/a.js\nvar a = 1;\n" in assembled
    assert assembled.endswith("\n// js/main.js\nb();\n})();\n")


@pytest.mark.parametrize(
    ("texts", "refusal"),
    [
        (
            {"main": 'import { c } from "./a.js";\n', "a": "export var a = 1;\n"},
            "main.js: a.js exports no c",
        ),
        (
            {"main": 'import { a } from "./a.js";\n', "a": "var a = 1;\n"},
            "main.js: a.js exports no a",
        ),
        ({"main": 'import { a } from "./a.js";\n'}, "main.js: no module a.js"),
        ({"main": 'import { a as b } from "./a.js";\n', "a": "export var a = 1;\n"}, "no 'as'"),
        (
            {"main": 'import { a } from "./a.js";\nfunction a() {}\n', "a": "export var a = 1;\n"},
            "main.js: a is declared by a.js too",
        ),
        (
            {
                "main": 'import { a } from "./a.js";\n',
                "a": 'import { m } from "./main.js";\nexport var a = 1;\n',
            },
            "main.js: imports itself through main.js -> a.js",
        ),
        ({"main": 'import { a } from "../a.js";\n'}, "outside js/"),
        ({"main": "", "lost": "export var lost = 1;\n"}, "lost.js: imported by no module"),
        ({"main": "export default 1;\n"}, "main.js: 'export default 1;'"),
        (
            {"main": 'import * as all from "./a.js";\n', "a": "export var a = 1;\n"},
            "main.js: 'import * as",
        ),
    ],
)
def test_a_module_the_assembly_cannot_join_is_refused(tmp_path, texts, refusal):
    with pytest.raises(build_js.ModuleError, match=re.escape(refusal)):
        build_js.assemble(modules(tmp_path, **texts))

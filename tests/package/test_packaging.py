"""The wheel carries the project's license and the vendored Dropzone's."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from support import ROOT


def test_the_wheel_ships_both_licenses(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    licenses = [name for name in names if name.endswith("LICENSE")]
    assert any(".dist-info/licenses/LICENSE" in name for name in licenses), licenses
    assert "flask_dropzone/static/dropzone/LICENSE" in names
    project = next(name for name in licenses if name.endswith(".dist-info/licenses/LICENSE"))
    assert zipfile.ZipFile(wheel).read(project).startswith(b"MIT License")
    metadata = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    )
    assert "License-Expression: MIT" in metadata


def test_the_code_needs_nothing_newer_than_the_python_it_declares():
    """Only one Python runs the suite here: vermin checks the syntax and library use
    of every module against ``requires-python``."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert declared == ">=3.9"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "vermin"),
            "--target=3.9-",
            "--violations",
            "--eval-annotations",
            "--no-tips",
            str(ROOT / "src" / "flask_dropzone"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_floors_ci_installs_are_the_declared_ones():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "floors.py"), "csrf"],
        capture_output=True,
        text=True,
    )
    pins = dict(line.split("==") for line in result.stdout.split())
    assert pins["Werkzeug"] == "3.1.7" and pins["Flask"] == "2.3.3" and pins["Flask-WTF"] == "1.2.0"
    assert set(pins) == {"Flask", "Werkzeug", "filetype", "multipart", "Flask-WTF"}


def test_the_request_class_to_subclass_is_where_the_readme_says_and_where_it_was():
    from flask_dropzone._protocol import parsing, receive

    assert receive.UploadRequest is parsing.UploadRequest

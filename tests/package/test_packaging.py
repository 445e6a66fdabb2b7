"""What CI installs and imports: the floors it pins, the request class apps subclass.

(The wheel's contents, mypy and vermin are checked by ``make lint``.)"""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


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


def test_the_images_extra_pins_pillow_and_the_core_never_imports_it():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "floors.py"), "images"],
        capture_output=True,
        text=True,
    )
    assert "Pillow==10.1" in result.stdout.split()
    started = (
        "import sys, flask, flask_dropzone;"
        "app = flask.Flask('a'); app.secret_key = 'k'; flask_dropzone.Dropzone(app);"
        "print(sorted(m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')))"
    )
    imported = subprocess.run([sys.executable, "-c", started], capture_output=True, text=True)
    assert imported.stdout.strip() == "[]", imported.stderr

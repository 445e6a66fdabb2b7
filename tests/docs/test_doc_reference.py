"""The site builds with no warning (as ``make docs``: warnings are errors, every reference
checked), and its generated reference holds every setting and every public name: a setting or
a name added without documentation fails here."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

import flask_dropzone
from flask_dropzone.forms import DropzoneField

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from a clean state, with ``make docs``'s options."""
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    built = subprocess.run(
        [*command, "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "No module named sphinx" not in built.stderr, "pip install -e '.[docs]'"
    assert built.returncode == 0, built.stderr
    return out / "html"


class Page(HTMLParser):
    """Every ``id`` of a page, and its text as a reader sees it (blanks collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.parts: list[str] = []
        self.rows: list[list[str]] = []  # every table row, its cells' text
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data):
        self.parts.append(data)
        if self.in_cell:
            self.rows[-1][-1] += data

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts))


def page(site: Path, name: str) -> Page:
    parsed = Page()
    parsed.feed((site / name).read_text(encoding="utf-8"))
    return parsed


def every_setting() -> list[str]:
    app = Flask(__name__)
    flask_dropzone.Dropzone(app)
    return sorted(name for name in app.config if name.startswith("DROPZONE_"))


def test_every_setting_is_in_the_generated_settings_reference(site):
    settings = page(site, "reference/settings.html")
    names = every_setting()
    assert len(names) > 50  # the zone settings and the app-wide ones
    for name in names:
        assert "setting-" + name.lower().replace("_", "-") in settings.ids, name


def test_every_zone_setting_shows_its_keyword_and_where_it_acts(site):
    from flask_dropzone._rules.settings import KEYWORDS

    rows = {
        cells[0].strip(): [cell.strip() for cell in cells]
        for cells in page(site, "reference/settings.html").rows
        if cells
    }
    for keyword in KEYWORDS:
        name, shown, default, meaning, where = rows[f"DROPZONE_{keyword.upper()}"]
        assert shown == keyword and default and meaning, keyword
        assert where in ("browser", "server", "both"), keyword


def test_every_setting_shows_the_default_a_new_app_has(site):
    """The table's defaults are what ``init_app`` sets, strings in double quotes."""
    rows = {cells[0].strip(): cells for cells in page(site, "reference/settings.html").rows}
    app = Flask(__name__)
    flask_dropzone.Dropzone(app)
    for name in every_setting():
        value = app.config[name]
        written = '"' + value.replace('"', '\\"') + '"' if isinstance(value, str) else repr(value)
        cells = rows[name]
        assert cells[1 if len(cells) == 4 else 2].strip() == written, name


def public_names() -> list[str]:
    """What the reference must hold: ``flask_dropzone.__all__``, Dropzone's public methods,
    the form field."""
    methods = [
        f"Dropzone.{name}"
        for name, value in vars(flask_dropzone.Dropzone).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or isinstance(value, staticmethod))
    ]
    return [*flask_dropzone.__all__, *methods]


def test_every_public_name_is_in_the_generated_api_reference(site):
    api = page(site, "reference/api.html").ids
    documented = {identifier.removeprefix("flask_dropzone.") for identifier in api}
    documented |= {name.removeprefix("signals.") for name in documented}
    missing = [name for name in public_names() if name not in documented]
    assert not missing, f"not in docs/reference/api.md: {missing}"
    assert f"flask_dropzone.forms.{DropzoneField.__name__}" in api


def test_every_command_is_in_the_generated_cli_reference(site):
    from flask_dropzone.cli import dropzone_cli

    text = page(site, "reference/cli.html").text
    for command in dropzone_cli.commands.values():
        assert f"flask dropzone {command.name}" in text, command.name
        for option in command.params:
            assert option.opts[0] in text, (command.name, option.opts[0])


def test_the_pages_render_their_titles_and_code(site):
    for name, title in {
        "index.html": "Flask-Dropzone",
        "quickstart.html": "Quickstart",
        "tutorial/posts.html": "Posts with photos",
        "reference/settings.html": "Settings",
        "changes.html": "Changes",
    }.items():
        html = (site / name).read_text(encoding="utf-8")
        assert f"<title>{title}" in html, name
    quickstart = (site / "quickstart.html").read_text(encoding="utf-8")
    assert 'class="highlight' in quickstart
    assert "return dropzone.answer(dropzone.save())" in page(site, "quickstart.html").text

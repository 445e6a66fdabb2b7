"""What every test has: the fixtures of tests/support, and markers set from the fixtures a test
uses, so that ``-m`` picks tiers precisely (``make test-fast`` runs ``-m "not (s3 or servers or
browser)"``)."""

from __future__ import annotations

import pytest

from support import ROOT
from support.properties import load_profile

# The fixtures of tests/support, every test's.
pytest_plugins = [
    "support.apps",  # make_app
    "support.browser",  # page_app
    "support.direct",  # direct_app, s3_app
    "support.forms",  # form_app
    "support.s3",  # weed, s3_server, s3_bucket, s3_settings
    "support.servers",  # spawn_gunicorn
]

load_profile()

#: A test that uses the fixture (itself or through another) gets the marker.
MARKED_BY_FIXTURE = {
    "weed": "s3",  # SeaweedFS: s3_server, s3_bucket, s3_settings all stand on it
    "spawn_gunicorn": "servers",
    "browser": "browser",
    "site": "docs",
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by them
def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKED_BY_FIXTURE.items():
            if fixture in used:
                item.add_marker(marker)


def _instance_folders() -> set[str]:
    return {str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("instance")}


def pytest_sessionstart(session):
    session.config.stash[_BEFORE] = _instance_folders()


def pytest_sessionfinish(session):
    """An app keeping its files in the repository fails the run: under pytest-xdist the workers
    would share them (make_app puts every app's instance folder in its test's tmp_path)."""
    if hasattr(session.config, "workerinput"):  # the xdist controller checks, once
        return
    made = sorted(_instance_folders() - session.config.stash[_BEFORE])
    if made:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(f"tests wrote into the repository: {', '.join(made)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set]()


@pytest.fixture
def app(make_app):
    """An app with the views the rendering tests link to."""
    app = make_app(TESTING=True)

    @app.route("/upload", methods=["POST"])
    def upload():
        return ""

    @app.route("/albums/<int:album>/upload", methods=["POST"])
    def album_upload(album):
        return ""

    @app.route("/done")
    def done():
        return "done"

    return app


@pytest.fixture
def ctx(app):
    with app.test_request_context("/page?x=1"):
        yield app

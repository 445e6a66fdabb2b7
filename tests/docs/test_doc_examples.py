"""Every complete example app the docs include (docs/examples/) starts, serves its page and
takes an upload, as the page says: an example that drifts from the API fails here."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import struct
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def png(seed: int = 0) -> bytes:
    """A small valid PNG (a 2x2 picture whose pixels differ by ``seed``)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([seed % 256, 0, 0] * 2) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def load(example: str, tmp_path: Path):
    """The example's module, imported from a copy in ``tmp_path`` (its instance folder,
    uploads and database go there, never into the repository)."""
    copy = tmp_path / example
    shutil.copytree(EXAMPLES / example, copy)
    name = f"docs_example_{example}_{tmp_path.name}"
    spec = importlib.util.spec_from_file_location(name, copy / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Inputs(HTMLParser):
    """The hidden inputs of a page (the CSRF token, a form field's ticket) and checkboxes."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.checked: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values["value"]
        elif tag == "input" and values.get("type") == "checkbox":
            self.checked.append((values["name"], values["value"]))


def inputs(client, url: str) -> Inputs:
    page = Inputs()
    page.feed(client.get(url).get_data(as_text=True))
    return page


def test_quickstart_serves_its_zone_and_stores_an_upload(tmp_path):
    app = load("quickstart", tmp_path).app
    app.instance_path = str(tmp_path / "instance")  # before the first request: uploads there
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and b"data-flask-dropzone" in page.data
    answer = client.post("/", data={"file": (io.BytesIO(png()), "holiday.png")})
    assert answer.status_code == 200
    assert answer.get_json() == {
        "stored": [{"filename": "holiday.png", "stored_name": "holiday.png"}]
    }
    assert (tmp_path / "instance" / "uploads" / "holiday.png").read_bytes() == png()


def blog_app(tmp_path, **config):
    module = load("blog", tmp_path)
    return module.create_app({"SECRET_KEY": "tutorial", **config})


def log_in(client, name="ada"):
    token = inputs(client, "/login").hidden["csrf_token"]
    assert client.post("/login", data={"csrf_token": token, "name": name}).status_code == 302


def publish(client, url, title, files=(), keep=()):
    """The form at ``url`` sent as a browser without JavaScript sends it: its hidden values,
    ``title``, the ``files`` themselves and the existing files ``keep`` (their boxes)."""
    page = inputs(client, url)
    data = {**page.hidden, "title": title}
    data["photos"] = [(io.BytesIO(body), name) for name, body in files] + [
        value for _, value in page.checked[: len(keep)]
    ]
    return client.post(url, data=data)


def test_the_blog_posts_photos_into_the_authors_folder_and_serves_them(tmp_path):
    app = blog_app(tmp_path)
    client = app.test_client()
    assert client.get("/").status_code == 200
    log_in(client)
    assert b"data-flask-dropzone" in client.get("/posts/new").data
    answer = publish(client, "/posts/new", "Holiday", [("beach.png", png(1))])
    assert answer.status_code == 302
    shown = client.get(answer.headers["Location"])
    assert b"/posts/1/photos/0" in shown.data
    photo = client.get("/posts/1/photos/0")
    assert photo.status_code == 200 and photo.data == png(1)
    assert photo.mimetype == "image/png"
    stored = Path(app.instance_path) / "photos" / "1" / "beach.png"
    assert stored.read_bytes() == png(1)


def test_the_blog_stores_a_phones_photo_without_where_it_was_taken(tmp_path):
    from support import photos

    app = blog_app(tmp_path)
    client = app.test_client()
    log_in(client)
    taken = photos.jpeg()
    assert publish(client, "/posts/new", "Walk", [("walk.jpg", taken)]).status_code == 302
    stored = (Path(app.instance_path) / "photos" / "1" / "walk.jpg").read_bytes()
    assert all(secret not in stored for secret in photos.SECRETS)
    assert photos.decoded(stored) == photos.decoded(taken)


def test_the_blogs_form_keeps_its_photos_across_an_error(tmp_path):
    client = blog_app(tmp_path).test_client()
    log_in(client)
    again = publish(client, "/posts/new", "", [("beach.png", png(1))])
    assert again.status_code == 200 and b"This field is required." in again.data
    kept = inputs_of(again)
    assert any(name == "photos" for name, _ in kept.checked)  # the photo, kept pending
    data = {**kept.hidden, "title": "Holiday", "photos": [value for _, value in kept.checked]}
    assert client.post("/posts/new", data=data).status_code == 302


def inputs_of(response) -> Inputs:
    page = Inputs()
    page.feed(response.get_data(as_text=True))
    return page


def test_the_blogs_edit_view_deletes_the_photos_removed(tmp_path):
    app = blog_app(tmp_path)
    client = app.test_client()
    log_in(client)
    publish(client, "/posts/new", "Holiday", [("beach.png", png(1)), ("sea.png", png(2))])
    folder = Path(app.instance_path) / "photos" / "1"
    assert sorted(path.name for path in folder.iterdir()) == ["beach.png", "sea.png"]
    answer = publish(client, "/posts/1/edit", "Holiday", [("hill.png", png(3))], keep=[0])
    assert answer.status_code == 302
    assert sorted(path.name for path in folder.iterdir()) == ["beach.png", "hill.png"]
    assert client.get("/posts/1/photos/1").data == png(3)
    assert client.get("/posts/1/photos/2").status_code == 404


def test_another_person_cannot_edit_a_post(tmp_path):
    client = blog_app(tmp_path).test_client()
    log_in(client, "ada")
    publish(client, "/posts/new", "Holiday", [("beach.png", png(1))])
    log_in(client, "bob")
    assert client.get("/posts/1/edit").status_code == 403


def test_the_blogs_policy_allows_only_the_app_on_disk(tmp_path):
    client = blog_app(tmp_path).test_client()
    policy = client.get("/").headers["Content-Security-Policy"]
    assert policy == "default-src 'self'; img-src 'self' data:"


def test_the_blog_on_s3_allows_the_buckets_pictures(tmp_path, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "tutorial",
        "AWS_SECRET_ACCESS_KEY": "tutorial-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    # As the tutorial sets them: FLASK_ variables, read by app.config.from_prefixed_env().
    monkeypatch.setenv("FLASK_DROPZONE_STORAGE", "s3")
    monkeypatch.setenv("FLASK_DROPZONE_S3_BUCKET", "photo-blog")
    monkeypatch.setenv("FLASK_DROPZONE_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    app = blog_app(tmp_path)
    assert app.config["DROPZONE_STORAGE"] == "s3"
    policy = app.test_client().get("/").headers["Content-Security-Policy"]
    assert policy == "default-src 'self'; img-src 'self' data: http://127.0.0.1:8333"


def test_every_example_app_is_tested_here():
    tested = {"quickstart", "blog"}
    apps = {path.parent.name for path in EXAMPLES.glob("*/app.py")}
    assert apps == tested, "a new example app needs a test in tests/docs/test_doc_examples.py"


def test_the_blog_keeps_savedfiles_as_rows(tmp_path):
    app = blog_app(tmp_path)
    client = app.test_client()
    log_in(client)
    publish(client, "/posts/new", "Holiday", [("beach.png", png(1))])
    import sqlite3

    with sqlite3.connect(Path(app.instance_path) / "blog.sqlite") as db:
        (photos,) = db.execute("SELECT photos FROM post").fetchone()
    (row,) = json.loads(photos)
    assert row["filename"] == "beach.png" and row["location"].endswith("photos/1/beach.png")

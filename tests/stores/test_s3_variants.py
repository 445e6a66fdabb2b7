"""Variants of stored images in a real S3 bucket (SeaweedFS): made once and kept in the
bucket under the store's own prefix, sent by a presigned redirect, deleted with their file;
two app servers sharing the bucket make one variant, whole, whoever is first."""

from __future__ import annotations

import io
import threading
import urllib.request

import pytest
from flask import render_template_string

from flask_dropzone._rules import images

from support.html import zone_config
from support.images import TURNED, jpeg, opened, variants_app
from support.s3 import bucket_keys

pytestmark = pytest.mark.s3

VARIANTS = "uploads/_dropzone/variants/"


def make(make_app, instance="instance"):
    app = variants_app(make_app, "s3", instance=instance)

    @app.get("/zone")
    def zone():
        return render_template_string(
            "{{ dropzone.create() }}{{ dropzone.config(existing=[{'name': 'photo.jpg'}]) }}"
        )

    return app


def store(app, name: str, data: bytes) -> None:
    answer = app.test_client().post("/upload", data={"file": (io.BytesIO(data), name)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.headers["Content-Type"], answer.read()


def variant_keys(app) -> list[str]:
    return [key for key in bucket_keys(app) if key.startswith(VARIANTS)]


@pytest.fixture
def counted(monkeypatch):
    made = []
    real = images.make
    monkeypatch.setattr(images, "make", lambda *args: made.append(1) or real(*args))
    return made


def test_a_variant_is_made_once_kept_in_the_bucket_and_sent_by_a_presigned_redirect(
    make_app, counted
):
    app = make(make_app)
    store(app, "photo.jpg", jpeg((400, 200), orientation=TURNED))
    client = app.test_client()
    first = client.get("/files/photo.jpg/thumbnail")
    assert first.status_code == 302 and first.headers["X-Content-Type-Options"] == "nosniff"
    (key,) = variant_keys(app)
    assert key.startswith(VARIANTS + "photo.jpg/thumbnail-")
    kind, data = fetch(first.headers["Location"])
    assert kind == "image/jpeg" and opened(data).size == (120, 240)
    assert client.get("/files/photo.jpg/thumbnail").status_code == 302
    assert len(counted) == 1 and variant_keys(app) == [key]
    with app.test_request_context():
        listed = app.extensions["dropzone"].stored_files()
    assert [saved.stored_name for saved in listed] == ["photo.jpg"]


def test_a_variant_is_deleted_with_its_file(make_app):
    app = make(make_app)
    store(app, "photo.jpg", jpeg())
    assert app.test_client().get("/files/photo.jpg/thumbnail").status_code == 302
    assert variant_keys(app)
    with app.test_request_context():
        assert app.extensions["dropzone"].delete_stored("photo.jpg") is True
    assert variant_keys(app) == []


def test_clean_removes_the_variants_of_objects_gone_from_the_bucket(make_app):
    """An object deleted outside the extension leaves its variant; ``flask dropzone clean``
    finds it in one listing of the store's own prefix and removes it, and no other."""
    from flask_dropzone import _stores as stores

    app = make(make_app)
    for name in ("kept.jpg", "gone.jpg"):
        store(app, name, jpeg())
        assert app.test_client().get(f"/files/{name}/thumbnail").status_code == 302
    files = stores.of(app).files
    files.client.delete_object(Bucket=files.bucket, Key="uploads/gone.jpg")
    (kept,) = [key for key in variant_keys(app) if "/kept.jpg/" in key]
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.exit_code == 0, result.output
    assert "1 stale variant," in result.output
    assert variant_keys(app) == [kept]
    assert [key for key in bucket_keys(app) if not key.startswith(VARIANTS)] == ["uploads/kept.jpg"]


def test_a_non_image_in_the_bucket_is_a_plain_404(make_app):
    app = make(make_app)
    store(app, "notes.txt", b"notes\n")
    answer = app.test_client().get("/files/notes.txt/thumbnail")
    assert answer.status_code == 404 and answer.mimetype == "text/plain"
    assert variant_keys(app) == []


def test_two_servers_racing_make_one_whole_variant(make_app, monkeypatch):
    first, second = make(make_app, "one"), make(make_app, "two")
    store(first, "photo.jpg", jpeg((800, 400)))
    both_made = threading.Barrier(2, timeout=30)
    real = images.make

    def make_together(*args):
        made = real(*args)
        both_made.wait()  # each server has made it before either keeps it
        return made

    monkeypatch.setattr(images, "make", make_together)
    answers = {}

    def ask(app):
        answers[app.instance_path] = app.test_client().get("/files/photo.jpg/thumbnail")

    threads = [threading.Thread(target=ask, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [answer.status_code for answer in answers.values()] == [302, 302]
    (key,) = variant_keys(first)
    for answer in answers.values():
        kind, data = fetch(answer.headers["Location"])
        assert kind == "image/jpeg" and opened(data).size == (240, 120)


def test_an_existing_image_shows_its_thumbnail_from_the_bucket(make_app):
    app = make(make_app)
    store(app, "photo.jpg", jpeg())
    client = app.test_client()
    (entry,) = zone_config(client.get("/zone").get_data(as_text=True))["existing"]
    answer = client.get(entry["thumbnail"])
    assert answer.status_code == 302
    with app.test_request_context():
        origin = app.extensions["dropzone"].storage_origin()
    assert answer.headers["Location"].startswith(origin + "/")
    assert fetch(answer.headers["Location"])[0] == "image/jpeg"
    assert app.test_client().get(entry["thumbnail"]).status_code == 404


def test_a_pending_files_discard_looks_for_no_variants(form_app):
    """A pending file never has variants: its discard deletes it without listing the bucket."""
    from flask_dropzone import _stores as stores

    from support.forms import field_config, reference

    app = form_app(storage="s3")
    client = app.test_client()
    found = reference(client, field_config(client))
    calls = []
    s3 = stores.of(app).files.client
    s3.meta.events.register("before-call.s3", lambda event_name, **_: calls.append(event_name))
    answer = client.post("/dropzone/pending/discard", data={"reference": found})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "before-call.s3.DeleteObject" in calls
    assert not [call for call in calls if "List" in call], calls
    again = client.post("/dropzone/pending/discard", data={"reference": found})
    assert again.status_code == 404  # it is gone

"""dropzone.delete_stored(): a view deletes a stored file (one a form field's ``removed``
lists, say), found as save() stored it, on disk and in a real S3 bucket."""

from __future__ import annotations

import dataclasses
import io

import pytest

from flask_dropzone import file_deleted

from support.apps import STORES


@pytest.fixture(params=STORES)
def app(request, make_app):
    app = make_app(request.param, DROPZONE_ZONES={"avatar": {"upload_folder": "avatars"}})
    dropzone = app.extensions["dropzone"]
    app.saved = []  # type: ignore[attr-defined]

    @app.post("/upload")
    def upload():
        saved = dropzone.save()
        app.saved.extend(saved)  # type: ignore[attr-defined]
        return {"stored": [each.stored_name for each in saved]}

    @app.post("/avatar")
    def avatar():
        saved = dropzone.save(zone="avatar")
        app.saved.extend(saved)  # type: ignore[attr-defined]
        return {"stored": [each.stored_name for each in saved]}

    return app


def store(app, url: str, name: str) -> None:
    answer = app.test_client().post(url, data={"file": (io.BytesIO(b"text\n"), name)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def listing(app, folder=None) -> list[str]:
    from flask_dropzone import _stores as stores
    from flask_dropzone._protocol import folders
    from flask_dropzone._rules.settings import resolve

    with app.app_context():
        where = folders.upload_folder(resolve(app.config), folder)
        return [name for name, _ in stores.of(app).files.listing(where)]


def test_a_stored_file_is_deleted_by_name_once_and_told(app):
    store(app, "/upload", "a.txt")
    store(app, "/upload", "b.txt")
    told = []
    with file_deleted.connected_to(lambda sender, **extra: told.append(extra["name"]), app):
        with app.test_request_context():
            dropzone = app.extensions["dropzone"]
            assert dropzone.delete_stored("a.txt") is True
            assert dropzone.delete_stored("a.txt") is False  # gone already
    assert listing(app) == ["b.txt"] and told == ["a.txt"]


@pytest.mark.parametrize("name", ["../b.txt", "/etc/passwd", ".env", "", "a/../b.txt"])
def test_a_name_that_cannot_be_a_stored_file_deletes_nothing(app, name):
    store(app, "/upload", "b.txt")
    with app.test_request_context():
        assert app.extensions["dropzone"].delete_stored(name) is False
    assert listing(app) == ["b.txt"]


def test_a_saved_file_is_deleted_where_it_was_stored(app):
    store(app, "/avatar", "me.txt")
    store(app, "/upload", "me.txt")
    (avatar, plain) = app.saved
    with app.test_request_context():
        dropzone = app.extensions["dropzone"]
        assert dropzone.delete_stored(avatar) is True  # the zone's folder, not the default one
        with pytest.raises(TypeError, match="takes no folder, zone or settings"):
            dropzone.delete_stored(plain, zone="avatar")
        assert dropzone.delete_stored("me.txt", zone="avatar") is False
    assert listing(app, "avatars") == [] and listing(app) == ["me.txt"]


def test_a_dict_as_existing_takes_is_deleted_by_its_name_or_where_it_was_stored(app):
    store(app, "/avatar", "me.txt")
    store(app, "/upload", "a.txt")
    store(app, "/upload", "b.txt")
    (avatar, a, b) = app.saved
    with app.test_request_context():
        dropzone = app.extensions["dropzone"]
        assert dropzone.delete_stored({"name": "a.txt", "size": 5, "filename": "a.txt"}) is True
        assert dropzone.delete_stored(dataclasses.asdict(avatar)) is True  # a row: its location
        assert (
            dropzone.delete_stored({"name": "b.txt"}, zone="avatar") is False
        )  # not in that folder
    assert listing(app, "avatars") == [] and listing(app) == ["b.txt"]


@pytest.mark.parametrize("item", [None, 42, b"a.txt", {"size": 3}, {"name": 7}, ["a.txt"]])
def test_anything_else_than_a_name_a_saved_file_or_such_a_dict_is_a_type_error(app, item):
    store(app, "/upload", "a.txt")
    with app.test_request_context():
        with pytest.raises(TypeError, match="takes a stored name, a SavedFile or a dict"):
            app.extensions["dropzone"].delete_stored(item)
    assert listing(app) == ["a.txt"]


def test_a_saved_file_row_is_the_saved_file_again(app):
    store(app, "/avatar", "me.txt")
    (saved,) = app.saved
    row = dataclasses.asdict(saved)  # what a JSON column, or a table's columns, keep
    assert type(saved)(**row) == saved


def test_the_files_a_zone_stored_are_listed_as_saved_files_to_send_or_delete(app):
    store(app, "/avatar", "me.txt")
    store(app, "/upload", "a.txt")
    store(app, "/upload", "b.txt")
    with app.test_request_context():
        dropzone = app.extensions["dropzone"]
        listed = dropzone.stored_files()
        assert [(saved.stored_name, saved.size, saved.mimetype) for saved in listed] == [
            ("a.txt", 5, "text/plain"),
            ("b.txt", 5, "text/plain"),
        ]
        (avatar,) = dropzone.stored_files(zone="avatar")
        assert avatar == dataclasses.replace(app.saved[0], filename="me.txt")  # where save() put it
        assert dropzone.send_stored(listed[0]).status_code in (200, 302)
        assert dropzone.delete_stored(listed[1]) is True
    assert listing(app) == ["a.txt"]

"""The extension's endpoints: delete (DELETE_ON_REMOVE, with existing= files), cancel and status (chunked uploads)."""

from __future__ import annotations

import io
import json
import os

import pytest
from flask import Flask

from flask_dropzone import file_deleted
from flask_dropzone._protocol import deletion
from flask_dropzone._rules import signing

XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def delete_app(make_app):
    def make(instance: str = "instance", **config) -> Flask:
        app = make_app(instance=instance, **{"DROPZONE_DELETE_ON_REMOVE": True, **config})
        dropzone = app.extensions["dropzone"]

        @app.post("/upload")
        def upload():
            return {"stored": [saved.stored_name for saved in dropzone.save()]}

        app.dropzone = dropzone  # type: ignore[attr-defined]
        return app

    return make


def upload(client, name="a.txt", content=b"hello"):
    response = client.post(
        "/upload", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.headers[deletion.HEADER])


def delete(client, token, **headers):
    return client.post("/dropzone/delete", data={"token": token}, headers={**XHR, **headers})


def stored(app) -> list[str]:
    folder = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_a_stored_files_token_deletes_it_once(delete_app):
    app = delete_app()
    client = app.test_client()
    entries = upload(client)
    assert [entry["filename"] for entry in entries] == ["a.txt"] and stored(app) == ["a.txt"]
    deleted = []
    file_deleted.connect(lambda sender, **info: deleted.append(info["name"]), app, weak=False)
    response = delete(client, entries[0]["token"])
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
        200,
        "text/plain",
        "Deleted.",
    )
    assert stored(app) == [] and deleted == ["a.txt"]
    again = delete(client, entries[0]["token"])  # replayed
    assert (again.status_code, again.get_data(as_text=True)) == (
        404,
        "There is no such file to delete.",
    )


def payload(app, token) -> dict:
    return signing.serializer(app, deletion.PURPOSE).loads(token)


@pytest.mark.parametrize("zone", [None, "elsewhere"])
def test_the_token_names_no_server_path_nor_the_files_inode(tmp_path, zone, delete_app):
    app = delete_app(
        DROPZONE_ZONES={"elsewhere": {"upload_folder": str(tmp_path / "other" / "place")}}
    )
    app.view_functions["upload"] = lambda: {
        "stored": [s.stored_name for s in app.dropzone.save(zone=zone)]
    }
    token = upload(app.test_client())[0]["token"]
    found = payload(app, token)
    assert str(tmp_path) not in repr(found)
    assert found["f"] == (
        "" if zone is None else "../../other/place"
    )  # relative to the upload folder
    folder = (
        os.path.join(app.instance_path, "uploads")
        if zone is None
        else str(tmp_path / "other" / "place")
    )
    info = os.stat(os.path.join(folder, "a.txt"))
    assert (
        str(info.st_ino) not in found["v"] and str(info.st_mtime_ns) not in found["v"]
    )  # a keyed hash


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "", lambda t: "a" * 5000]
)
def test_a_tampered_or_missing_token_is_400_and_deletes_nothing(mangle, delete_app):
    app = delete_app()
    client = app.test_client()
    token = upload(client)[0]["token"]
    response = delete(client, mangle(token))
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert stored(app) == ["a.txt"]


def test_another_clients_token_is_404(delete_app):
    app = delete_app()
    token = upload(app.test_client())[0]["token"]
    response = delete(app.test_client(), token)  # another browser: another session
    assert response.status_code == 404 and stored(app) == ["a.txt"]


def test_a_token_for_a_file_stored_again_under_its_name_deletes_nothing(delete_app):
    app = delete_app()
    client = app.test_client()
    old = upload(client)[0]["token"]
    assert delete(client, old).status_code == 200
    upload(client, content=b"a new file under the old name")
    assert delete(client, old).status_code == 404 and stored(app) == ["a.txt"]


def test_a_token_past_its_window_is_410(monkeypatch, delete_app):
    app = delete_app(DROPZONE_DELETE_WINDOW=60)
    client = app.test_client()
    token = upload(client)[0]["token"]
    later = deletion.time.time() + 61
    monkeypatch.setattr(deletion.time, "time", lambda: later)
    response = delete(client, token)
    assert response.status_code == 410 and stored(app) == ["a.txt"]


def test_the_apps_check_can_keep_a_file(delete_app):
    app = delete_app()
    asked = []

    @app.dropzone.before_delete
    def keep(name, folder):
        asked.append(name)
        return False

    client = app.test_client()
    token = upload(client)[0]["token"]
    response = delete(client, token)
    assert (response.status_code, response.get_data(as_text=True)) == (
        403,
        "This file cannot be deleted.",
    )
    assert asked == ["a.txt"] and stored(app) == ["a.txt"]


def test_without_delete_on_remove_no_token_is_sent(delete_app):
    app = delete_app(DROPZONE_DELETE_ON_REMOVE=False)
    response = app.test_client().post(
        "/upload", data={"file": (io.BytesIO(b"x"), "a.txt")}, content_type="multipart/form-data"
    )
    assert deletion.HEADER not in response.headers


def test_with_csrfprotect_a_delete_needs_the_csrf_token(delete_app):
    from flask_wtf.csrf import CSRFProtect, generate_csrf

    app = delete_app(DROPZONE_ENABLE_CSRF=True)
    CSRFProtect(app)

    @app.get("/token")
    def csrf_token():
        return generate_csrf()

    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    token = upload(client)[0]["token"]
    app.config["WTF_CSRF_ENABLED"] = True
    refused = delete(client, token)
    assert (
        refused.status_code == 400 and refused.mimetype == "text/plain" and stored(app) == ["a.txt"]
    )
    csrf = client.get("/token").get_data(as_text=True)
    assert delete(client, token, **{"X-CSRFToken": csrf}).status_code == 200 and stored(app) == []


def test_a_file_in_s3_is_deleted_from_its_remove_link(
    s3_server, s3_bucket, s3_settings, delete_app
):
    from support.s3server import make_client

    app = delete_app(**s3_settings)
    client = app.test_client()
    token = upload(client, "photo.bin", os.urandom(1000))[0]["token"]
    bucket = make_client(s3_server)
    assert [e["Key"] for e in bucket.list_objects_v2(Bucket=s3_bucket).get("Contents", [])] == [
        "uploads/photo.bin"
    ]
    assert delete(client, token).status_code == 200
    assert bucket.list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []


def test_a_client_cancels_its_own_partial_upload_and_no_other(delete_app):
    from support.chunking import CONTENT_TYPE, chunk_requests

    app = delete_app(DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=1024)
    client = app.test_client()
    data = os.urandom(2500)
    bodies = chunk_requests(data, "c.bin", 1024, file_id="0f0f0f0f-0000-4000-8000-000000000001")
    assert client.post("/upload", data=bodies[0], content_type=CONTENT_TYPE).status_code == 200
    other = app.test_client().post(
        "/dropzone/cancel", data={"dzuuid": "0f0f0f0f-0000-4000-8000-000000000001"}
    )
    assert (other.status_code, other.get_data(as_text=True)) == (404, "There is no such upload.")
    mine = client.post("/dropzone/cancel", data={"dzuuid": "0f0f0f0f-0000-4000-8000-000000000001"})
    assert (mine.status_code, mine.get_data(as_text=True)) == (200, "Cancelled.")
    late = client.post("/upload", data=bodies[1], content_type=CONTENT_TYPE)
    assert late.status_code == 410
    chunks = os.path.join(app.instance_path, "dropzone-chunks")
    assert not [f for _, _, files in os.walk(chunks) for f in files if f in ("data", "received")]


def test_existing_files_reach_the_page_as_escaped_json_with_their_tokens(delete_app):
    from support.html import zone_configs

    app = delete_app()
    client = app.test_client()
    saved = []

    @app.post("/saved")
    def saved_view():
        saved.extend(app.dropzone.save())
        return ""

    @app.get("/edit")
    def edit():
        from flask import render_template_string

        hostile = {
            "name": "</script><script>alert(1)</script>",
            "size": 3,
        }  # shown only: no delete token
        return render_template_string(
            "{{ dropzone.config(existing=items) }}{{ dropzone.config(id='shown', existing=[hostile], "
            "delete_on_remove=False) }}",
            items=saved,
            hostile=hostile,
        )

    upload(client, "kept.txt")
    client.post(
        "/saved", data={"file": (io.BytesIO(b"abc"), "s.txt")}, content_type="multipart/form-data"
    )
    html = client.get("/edit").get_data(as_text=True)
    assert "</script><script>" not in html
    zones = {config["id"]: config["existing"] for config in zone_configs(html)}
    assert [(e["name"], e["size"]) for e in zones["myDropzone"]] == [("s.txt", 3)]
    assert zones["shown"] == [{"name": "</script><script>alert(1)</script>", "size": 3}]
    assert delete(client, zones["myDropzone"][0]["token"]).status_code == 200 and stored(app) == [
        "kept.txt"
    ]


@pytest.mark.parametrize(
    "name", ["../app-database.sqlite", "otheruser/file.txt", ".hidden", "a\\b.txt"]
)
def test_existing_names_that_cannot_be_stored_files_get_no_delete_token(tmp_path, name, delete_app):
    """An app listing saved.filename (the client's name) instead of saved.stored_name, or a
    path, is told so: a token for such a name would delete outside the folder."""
    app = delete_app()
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "app-database.sqlite").write_bytes(b"precious")
    with app.test_request_context(), pytest.raises(ValueError, match="cannot be a stored file"):
        app.dropzone.config(existing=[{"name": name}])


def test_a_token_naming_a_path_deletes_nothing(tmp_path, delete_app):
    """Checked again at delete: a name that cannot be a stored file's is no file to delete."""
    app = delete_app()
    client = app.test_client()
    good = payload(app, upload(client)[0]["token"])
    (tmp_path / "instance" / "app-database.sqlite").write_bytes(b"precious")
    forged = signing.serializer(app, deletion.PURPOSE).dumps(
        {**good, "n": "../app-database.sqlite"}
    )
    response = delete(client, forged)
    assert (response.status_code, response.get_data(as_text=True)) == (
        404,
        "There is no such file to delete.",
    )
    assert (tmp_path / "instance" / "app-database.sqlite").read_bytes() == b"precious"


def test_existing_takes_saved_files_or_dicts_with_a_name(delete_app):
    app = delete_app()
    with app.test_request_context(), pytest.raises(TypeError, match="existing="):
        app.dropzone.config(existing=[{"size": 1}])


def test_the_status_of_an_upload_is_told_to_its_client_only(delete_app):
    from support.chunking import CONTENT_TYPE, chunk_requests

    app = delete_app(DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=1024)
    client = app.test_client()
    upload_id = "0f0f0f0f-0000-4000-8000-000000000002"
    bodies = chunk_requests(os.urandom(2500), "c.bin", 1024, order=[2, 0], file_id=upload_id)
    for request_body in bodies:
        assert (
            client.post("/upload", data=request_body, content_type=CONTENT_TYPE).status_code == 200
        )
    status = client.get(f"/dropzone/status?dzuuid={upload_id}")
    assert status.json == {"held": [0, 2], "size": 2500, "chunkSize": 1024, "count": 3}
    assert status.headers["Cache-Control"] == "no-store"
    for other in (
        app.test_client().get(f"/dropzone/status?dzuuid={upload_id}"),
        client.get("/dropzone/status?dzuuid=not-an-id"),
        client.get("/dropzone/status"),
    ):
        assert (other.status_code, other.mimetype) == (404, "text/plain")


def test_remove_links_are_dropzones_add_remove_links(delete_app):
    from support.html import zone_config

    app = delete_app(DROPZONE_DELETE_ON_REMOVE=False)
    with app.test_request_context():
        plain = zone_config(str(app.dropzone.config()))
        links = zone_config(
            str(app.dropzone.config(add_remove_links=True, remove_file="Take it away"))
        )
        deleting = zone_config(str(app.dropzone.config(delete_on_remove=True)))
    assert plain["options"]["addRemoveLinks"] is False and plain["deleteUrl"] is None
    assert (
        links["options"]["addRemoveLinks"] is True
        and links["options"]["dictRemoveFile"] == "Take it away"
    )
    assert links["deleteUrl"] is None  # links that only take the file out of the zone
    assert (
        deleting["options"]["addRemoveLinks"] is True
        and deleting["deleteUrl"] == "/dropzone/delete"
    )


# Which file a token deletes, decided by the server from today's settings ---------------------


def _stored_in(app, folder_keyword) -> list[str]:
    from flask_dropzone import _stores as stores
    from flask_dropzone._protocol import folders
    from flask_dropzone._rules.settings import resolve

    with app.app_context():
        folder = folders.upload_folder(resolve(app.config), folder_keyword)
        return [name for name, _ in stores.of(app).files.listing(folder)]


WAYS = {
    # how the view chooses the folder: (extra config, save() keywords, the folder named to the store)
    "app setting": ({"DROPZONE_UPLOAD_FOLDER": "{tmp}/media"}, {}, None),
    "named zone": (
        {"DROPZONE_ZONES": {"avatar": {"upload_folder": "{tmp}/avatars"}}},
        {"zone": "avatar"},
        "{tmp}/avatars",
    ),
    "keyword": ({}, {"upload_folder": "{tmp}/by-keyword"}, "{tmp}/by-keyword"),
    "folder argument": ({}, {"folder": "{tmp}/by-argument"}, "{tmp}/by-argument"),
}
S3_WAYS = {
    "the prefix": ({}, {}, None),
    "named zone": (
        {"DROPZONE_ZONES": {"avatar": {"upload_folder": "avatars"}}},
        {"zone": "avatar"},
        "avatars",
    ),
    "keyword": ({}, {"upload_folder": "by-keyword"}, "by-keyword"),
    "folder argument": ({}, {"folder": "by-argument"}, "by-argument"),
}


def _filled(value, tmp_path):
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp_path))
    if isinstance(value, dict):
        return {key: _filled(item, tmp_path) for key, item in value.items()}
    return value


def _way_app(delete_app, tmp_path, config, keywords, storage=None) -> Flask:
    app = delete_app(**_filled(config, tmp_path), **(storage or {}))
    keywords = _filled(keywords, tmp_path)
    app.view_functions["upload"] = lambda: {
        "stored": [s.stored_name for s in app.dropzone.save(**keywords)]
    }
    return app


@pytest.mark.parametrize("way", WAYS)
def test_the_remove_link_deletes_the_file_wherever_the_view_stored_it(tmp_path, way, delete_app):
    config, keywords, folder = WAYS[way]
    app = _way_app(delete_app, tmp_path, config, keywords)
    client = app.test_client()
    folder = _filled(folder, tmp_path)
    token = upload(client)[0]["token"]
    assert _stored_in(app, folder) == ["a.txt"]
    response = delete(client, token)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "Deleted.")
    assert _stored_in(app, folder) == []


@pytest.mark.parametrize("way", S3_WAYS)
def test_on_s3_the_remove_link_deletes_the_file_wherever_the_view_stored_it(
    tmp_path, s3_settings, way, delete_app
):
    config, keywords, folder = S3_WAYS[way]
    app = _way_app(delete_app, tmp_path, config, keywords, s3_settings)
    client = app.test_client()
    token = upload(client)[0]["token"]
    assert _stored_in(app, folder) == ["a.txt"]
    assert payload(app, token)["f"] == ("" if folder is None else folder + "/")  # inside the prefix
    assert delete(client, token).status_code == 200
    assert _stored_in(app, folder) == []


@pytest.mark.parametrize("zone", [None, "avatar"])
def test_files_shown_again_are_deleted_from_the_zones_own_folder(tmp_path, zone, delete_app):
    app = delete_app(DROPZONE_ZONES={"avatar": {"upload_folder": str(tmp_path / "avatars")}})
    folder = str(tmp_path / ("avatars" if zone else "instance/uploads"))
    os.makedirs(folder)
    with open(os.path.join(folder, "old.txt"), "wb") as file:
        file.write(b"stored last week")
    client = app.test_client()

    @app.get("/edit")
    def edit():
        from flask import render_template_string

        return render_template_string(
            "{{ dropzone.config(id=zone or 'plain', existing=[{'name': 'old.txt'}]) }}", zone=zone
        )

    from support.html import zone_config

    (entry,) = zone_config(client.get("/edit").get_data(as_text=True))["existing"]
    assert delete(client, entry["token"]).status_code == 200
    assert not os.path.exists(os.path.join(folder, "old.txt"))


@pytest.mark.parametrize("answer", [None, 0, "", []])
def test_a_check_that_does_not_say_yes_keeps_the_file(answer, delete_app):
    """before_delete fails closed: a check returning None (no row found, a forgotten return)
    vetoes, as False does."""
    app = delete_app()
    app.dropzone.before_delete(lambda name, folder: answer)
    client = app.test_client()
    response = delete(client, upload(client)[0]["token"])
    assert response.status_code == 403 and stored(app) == ["a.txt"]


def test_a_check_that_says_yes_lets_the_delete_go_on(delete_app):
    app = delete_app()
    app.dropzone.before_delete(lambda name, folder: 1)
    client = app.test_client()
    assert delete(client, upload(client)[0]["token"]).status_code == 200 and stored(app) == []


def test_a_token_deletes_nothing_once_the_app_no_longer_deletes_from_remove_links(delete_app):
    app = delete_app()
    client = app.test_client()
    token = upload(client)[0]["token"]
    app.config["DROPZONE_DELETE_ON_REMOVE"] = False  # redeployed
    response = delete(client, token)
    assert (response.status_code, response.get_data(as_text=True)) == (
        403,
        "This file cannot be deleted here.",
    )
    assert stored(app) == ["a.txt"]


def test_a_token_is_held_to_the_shorter_of_its_window_and_todays(monkeypatch, delete_app):
    app = delete_app(DROPZONE_DELETE_WINDOW=3600)
    client = app.test_client()
    token = upload(client)[0]["token"]
    app.config["DROPZONE_DELETE_WINDOW"] = 1  # redeployed with a shorter window
    later = deletion.time.time() + 2
    monkeypatch.setattr(deletion.time, "time", lambda: later)
    assert delete(client, token).status_code == 410 and stored(app) == ["a.txt"]


def test_a_named_zones_token_follows_the_zone_of_today(delete_app):
    app = delete_app(
        DROPZONE_DELETE_ON_REMOVE=False,
        DROPZONE_ZONES={"avatar": {"delete_on_remove": True}},
    )
    app.view_functions["upload"] = lambda: {
        "stored": [s.stored_name for s in app.dropzone.save(zone="avatar")]
    }
    client = app.test_client()
    token = upload(client)[0]["token"]
    del app.config["DROPZONE_ZONES"]["avatar"]  # the zone is gone
    assert delete(client, token).status_code == 403 and stored(app) == ["a.txt"]


def test_another_app_with_the_same_secret_key_cannot_use_a_token(delete_app):
    public = delete_app(instance="public")
    admin = delete_app(instance="admin")
    admin.config["DROPZONE_APP_ID"] = "admin"
    client = public.test_client()
    token = upload(client)[0]["token"]
    with admin.test_client() as other:
        with client.session_transaction() as mine, other.session_transaction() as theirs:
            theirs.update(mine)  # the same key: the same session cookie works on both
        response = delete(other, token)
    assert response.status_code == 400 and stored(public) == ["a.txt"]


def test_after_a_logout_the_next_person_inherits_nothing(delete_app):
    """Flask-Login's logout_user() leaves the rest of the session: the client id goes too, so
    the previous person's delete tokens, partial uploads and rules are not the next one's."""
    from flask_login import LoginManager, UserMixin, login_user, logout_user

    app = delete_app()
    manager = LoginManager(app)

    class User(UserMixin):
        id = "ada"

    manager.user_loader(lambda user_id: User())
    app.add_url_rule("/login", "login", lambda: login_user(User()) and "in", methods=["POST"])
    app.add_url_rule("/logout", "logout", lambda: logout_user() and "out", methods=["POST"])
    client = app.test_client()
    client.post("/login")
    token = upload(client)[0]["token"]
    client.post("/logout")
    response = delete(client, token)
    assert response.status_code == 404 and stored(app) == ["a.txt"]
    with client.session_transaction() as session:
        assert "_dropzone_client" not in session


def test_forget_client_gives_the_browser_a_new_client_id(delete_app):
    app = delete_app()
    app.add_url_rule(
        "/switch", "switch", lambda: app.dropzone.forget_client() or "", methods=["POST"]
    )
    client = app.test_client()
    token = upload(client)[0]["token"]
    client.post("/switch")
    assert delete(client, token).status_code == 404


def test_a_file_stored_again_between_the_check_and_the_delete_is_kept(monkeypatch, delete_app):
    from flask_dropzone._stores.disk.files import DiskFiles

    app = delete_app()
    client = app.test_client()
    token = upload(client)[0]["token"]
    path = os.path.join(app.instance_path, "uploads", "a.txt")
    real, calls = DiskFiles.version, []

    def then_replaced(self, folder, name):
        found = real(self, folder, name)
        calls.append(found)
        if len(calls) == 1:  # checked: now another file takes the name
            os.unlink(path)
            with open(path, "wb") as file:
                file.write(b"someone else's file")
        return found

    monkeypatch.setattr(DiskFiles, "version", then_replaced)
    assert delete(client, token).status_code == 404
    with open(path, "rb") as file:
        assert file.read() == b"someone else's file"

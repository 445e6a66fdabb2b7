"""Settings that cannot work fail at start-up (or at the first request), naming the setting."""

from __future__ import annotations

import os

import pytest
from flask import render_template_string

from flask_dropzone import Dropzone, SettingError
from flask_dropzone._rules.checks import check_folder


@pytest.fixture
def app_with(make_app):
    """Apps without a SECRET_KEY (what several checks are about), Dropzone not yet initialised."""
    return lambda **config: make_app(SECRET_KEY=None, dropzone=False, **config)


@pytest.mark.parametrize("setting", ["DROPZONE_UPLOAD_FOLDER", "DROPZONE_CHUNK_FOLDER"])
def test_a_folder_setting_naming_a_file_fails_at_start_up(tmp_path, setting, app_with):
    (tmp_path / "a-file").write_text("not a folder")
    for path in (tmp_path / "a-file", tmp_path / "a-file" / "below"):
        with pytest.raises(SettingError, match=f"{setting}.*must be a folder"):
            Dropzone(app_with(**{setting: str(path)}))


def test_a_folder_that_does_not_exist_yet_is_fine(tmp_path, app_with):
    Dropzone(app_with(DROPZONE_UPLOAD_FOLDER=str(tmp_path / "new" / "uploads")))
    assert not (tmp_path / "new").exists()  # created on first use, not before


def test_a_folder_the_apps_user_cannot_write_to_is_refused(tmp_path):
    # Checked as the app's user (os.access); as root every folder is writable, so the check is fed.
    denied = str(tmp_path / "readonly")
    os.mkdir(denied)

    def access(path, mode):
        return path != denied

    with pytest.raises(SettingError, match=r"DROPZONE_UPLOAD_FOLDER .*cannot write to it"):
        check_folder("DROPZONE_UPLOAD_FOLDER", denied, access)
    with pytest.raises(SettingError, match=r"cannot create it in"):
        check_folder("DROPZONE_UPLOAD_FOLDER", os.path.join(denied, "uploads"), access)
    check_folder("DROPZONE_UPLOAD_FOLDER", str(tmp_path / "other"), access)


def test_chunking_without_a_secret_key_says_so_at_the_first_request(app_with):
    app = app_with(DROPZONE_CHUNKING=True)
    Dropzone(app)  # an app factory may still set SECRET_KEY after init_app
    app.testing = True

    @app.get("/")
    def index():
        return "home"

    with pytest.raises(SettingError, match="DROPZONE_CHUNKING needs Flask's SECRET_KEY"):
        app.test_client().get("/")


def test_a_secret_key_set_after_init_app_is_enough(app_with):
    app = app_with(DROPZONE_CHUNKING=True)
    Dropzone(app)
    app.config["SECRET_KEY"] = "set by the factory later"

    @app.get("/")
    def index():
        return render_template_string("{{ dropzone.config() }}")

    assert app.test_client().get("/").status_code == 200


def test_a_chunking_zone_without_a_secret_key_names_the_setting(app_with):
    app = app_with()
    Dropzone(app)
    app.testing = True

    @app.get("/")
    def index():
        return render_template_string("{{ dropzone.config(chunking=True) }}")

    with pytest.raises(SettingError, match=r"chunking=True\) needs Flask's SECRET_KEY"):
        app.test_client().get("/")


@pytest.mark.parametrize("setting", ["DROPZONE_REDIRECT_VIEW", "DROPZONE_UPLOAD_ACTION"])
def test_a_setting_naming_a_missing_endpoint_fails_at_the_first_request(setting, app_with):
    app = app_with(**{setting: "no_such_view"})
    Dropzone(app)
    app.testing = True

    @app.get("/")
    def index():
        return "home"

    with pytest.raises(SettingError, match=f"{setting} names 'no_such_view'"):
        app.test_client().get("/")


def test_settings_naming_urls_or_existing_endpoints_pass(app_with):
    app = app_with(DROPZONE_REDIRECT_VIEW="index", DROPZONE_UPLOAD_ACTION="/upload")
    Dropzone(app)

    @app.get("/")
    def index():
        return "home"

    assert app.test_client().get("/").status_code == 200


def test_a_chunk_quota_below_the_largest_file_fails_at_start_up(app_with):
    with pytest.raises(SettingError, match="DROPZONE_CHUNK_QUOTA .* below DROPZONE_MAX_FILE_SIZE"):
        Dropzone(
            app_with(
                DROPZONE_CHUNKING=True,
                DROPZONE_MAX_FILE_SIZE=2048,
                DROPZONE_CHUNK_QUOTA=1024,
            )
        )
    Dropzone(
        app_with(DROPZONE_MAX_FILE_SIZE=2048, DROPZONE_CHUNK_QUOTA=1024)
    )  # no chunking: unused


def test_deletes_from_remove_links_without_a_secret_key_say_so_at_the_first_request(app_with):
    app = app_with(DROPZONE_DELETE_ON_REMOVE=True)
    Dropzone(app)
    app.testing = True
    app.add_url_rule("/", "index", lambda: "home")
    with pytest.raises(
        SettingError, match="DROPZONE_DELETE_ON_REMOVE needs Flask's SECRET_KEY: each stored file's"
    ):
        app.test_client().get("/")


def test_a_named_zone_that_needs_a_secret_key_is_named_at_the_first_request(app_with):
    app = app_with(DROPZONE_ZONES={"big": {"chunking": True}})
    Dropzone(app)
    app.testing = True
    app.add_url_rule("/", "index", lambda: "home")
    with pytest.raises(
        SettingError, match=r"DROPZONE_CHUNKING \(zone 'big'\) needs Flask's SECRET_KEY"
    ):
        app.test_client().get("/")


def test_a_view_deleting_from_remove_links_without_a_secret_key_stores_nothing(app_with):
    import io

    from flask_dropzone import file_stored

    app = app_with()
    dropzone = Dropzone(app)
    app.testing = True
    app.add_url_rule(
        "/upload", "upload", lambda: str(dropzone.save(delete_on_remove=True)), methods=["POST"]
    )
    stored = []
    file_stored.connect(lambda sender, saved: stored.append(saved), app, weak=False)
    with pytest.raises(
        SettingError, match=r"DROPZONE_DELETE_ON_REMOVE \(or delete_on_remove=True\) needs"
    ):
        app.test_client().post("/upload", data={"file": (io.BytesIO(b"a"), "a.txt")})
    assert stored == [] and not os.path.exists(os.path.join(app.instance_path, "uploads", "a.txt"))


def test_a_named_zones_folder_inside_the_chunk_folder_fails_at_start_up_naming_the_zone(app_with):
    zones = {"avatar": {"upload_folder": "dropzone-chunks/avatars"}}
    with pytest.raises(SettingError, match=r"DROPZONE_ZONES\['avatar'\]: .*must be apart"):
        Dropzone(app_with(DROPZONE_ZONES=zones))


def test_a_keywords_folder_inside_the_chunk_folder_fails_where_it_is_used_naming_the_settings(
    app_with,
):
    app = app_with()
    dropzone = Dropzone(app)
    with app.test_request_context(), pytest.raises(SettingError, match="must be apart"):
        dropzone.send_stored("a.png", folder="dropzone-chunks/pending")

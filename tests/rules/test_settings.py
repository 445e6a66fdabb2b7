import pytest

from flask_dropzone import Dropzone, SettingError, allowed_file_extensions
from flask_dropzone._rules.settings import KEYWORDS, Options, canonical_keywords, resolve

from support import ROOT

# Flask-Dropzone 2.0.0's settings and defaults, except SERVE_LOCAL (now True),
# MAX_FILES (None; its "null" string still means no limit) and the three refusals below.
DOCUMENTED_DEFAULTS = {
    "DROPZONE_SERVE_LOCAL": True,
    "DROPZONE_MAX_FILE_SIZE": 3,
    "DROPZONE_INPUT_NAME": "file",
    "DROPZONE_ALLOWED_FILE_CUSTOM": False,
    "DROPZONE_ALLOWED_FILE_TYPE": "default",
    "DROPZONE_MAX_FILES": None,
    "DROPZONE_TIMEOUT": None,
    "DROPZONE_REDIRECT_VIEW": None,
    "DROPZONE_UPLOAD_MULTIPLE": False,
    "DROPZONE_PARALLEL_UPLOADS": 2,
    "DROPZONE_ENABLE_CSRF": False,
    "DROPZONE_UPLOAD_ACTION": "",
    "DROPZONE_UPLOAD_ON_CLICK": False,
    "DROPZONE_UPLOAD_BTN_ID": "upload",
    "DROPZONE_IN_FORM": False,
    "DROPZONE_DEFAULT_MESSAGE": "Drop files here or click to upload.",
    "DROPZONE_INVALID_FILE_TYPE": "You can't upload files of this type.",
    "DROPZONE_FILE_TOO_BIG": "File is too big {{filesize}}. Max filesize: {{maxFilesize}}MiB.",
    "DROPZONE_SERVER_ERROR": "Server error: {{statusCode}}",
    "DROPZONE_BROWSER_UNSUPPORTED": "Your browser does not support drag'n'drop file uploads.",
    "DROPZONE_MAX_FILE_EXCEED": "You can't upload any more files.",
    "DROPZONE_CANCEL_UPLOAD": "Cancel upload",
    "DROPZONE_REMOVE_FILE": "Remove file",
    "DROPZONE_CANCEL_CONFIRMATION": "You really want to delete this file?",
    "DROPZONE_UPLOAD_CANCELED": "Upload canceled",
}


# Refusals that say what is allowed, in the units of the previews, and an empty zone that says
# its rules (the migration notes list them).
CHANGED_DEFAULTS = {
    "DROPZONE_DEFAULT_MESSAGE": "Drop files here or click to upload. {{rules}}",
    "DROPZONE_INVALID_FILE_TYPE": "You can't upload files of this type. Allowed: {{acceptedFiles}}.",
    "DROPZONE_FILE_TOO_BIG": "File is too big ({{filesize}} MiB). Max filesize: {{maxFilesize}} MiB.",
    "DROPZONE_MAX_FILE_EXCEED": "You can't upload any more files (at most {{maxFiles}}).",
    "DROPZONE_CANCEL_CONFIRMATION": "Cancel the upload of this file?",  # cancelling deletes nothing
}


def test_init_app_registers_the_documented_settings_with_their_defaults(make_app):
    app = make_app()
    for name, default in {**DOCUMENTED_DEFAULTS, **CHANGED_DEFAULTS}.items():
        assert app.config[name] == default, name


def test_the_migration_page_lists_every_changed_default():
    migration = (ROOT / "docs" / "guides" / "migrating.md").read_text()
    for name in CHANGED_DEFAULTS:
        assert f"`{name}`" in migration, name


def test_every_documented_setting_is_a_keyword():
    assert len(DOCUMENTED_DEFAULTS) == 25
    for name in DOCUMENTED_DEFAULTS:
        assert name.removeprefix("DROPZONE_").lower() in KEYWORDS


def test_init_app_keeps_values_the_app_set(make_app):
    app = make_app(DROPZONE_MAX_FILE_SIZE=10)
    assert app.config["DROPZONE_MAX_FILE_SIZE"] == 10


def test_keyword_overrides_config():
    options = resolve({"DROPZONE_MAX_FILE_SIZE": 10}, {"max_file_size": 0.5})
    assert options.max_file_size == 0.5


def test_fractional_size_stays_fractional():
    assert resolve({"DROPZONE_MAX_FILE_SIZE": 0.5}).max_file_size == 0.5
    assert resolve({"DROPZONE_MAX_FILE_SIZE": "2.5"}).max_file_size == 2.5


def test_flask_dropzone_alias_max_file_exceeded():
    assert canonical_keywords({"max_file_exceeded": "No more"}, "config()") == {
        "max_file_exceed": "No more"
    }


def test_unknown_keyword_is_an_error_with_a_suggestion():
    with pytest.raises(TypeError, match="'max_file_sise'.*Did you mean 'max_file_size'"):
        canonical_keywords({"max_file_sise": 1}, "config()")


def test_null_string_means_no_limit():
    assert resolve({"DROPZONE_MAX_FILES": "null"}).max_files is None
    assert resolve({"DROPZONE_MAX_FILES": 4}).max_files == 4


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DROPZONE_MAX_FILE_SIZE", 0, "positive number"),
        ("DROPZONE_MAX_FILE_SIZE", "big", "must be a number"),
        ("DROPZONE_MAX_FILE_SIZE", float("inf"), "finite"),
        ("DROPZONE_PARALLEL_UPLOADS", 0, "at least 1"),
        ("DROPZONE_PARALLEL_UPLOADS", 1.5, "whole number"),
        ("DROPZONE_UPLOAD_MULTIPLE", "maybe", "True or False"),
        ("DROPZONE_INPUT_NAME", "", "form field name"),
        # Dropzone writes the field name into HTML in its fallback form.
        ("DROPZONE_INPUT_NAME", '"><img src=x onerror=alert(1)>', "form field name"),
        ("DROPZONE_INPUT_NAME", "file name", "form field name"),
        ("DROPZONE_DEFAULT_MESSAGE", 3, "must be a string"),
    ],
)
def test_bad_values_name_the_setting(name, value, message):
    with pytest.raises(SettingError, match=f"{name}.*{message}"):
        resolve({name: value})


def test_field_names_dropzone_and_php_users_write_are_accepted():
    for name in ("file", "photo_1", "files[]", "doc.pdf", "upload-2", "ünïcode"):
        assert resolve({}, {"input_name": name}).input_name == name


def test_bad_keyword_value_names_the_keyword():
    with pytest.raises(SettingError, match="max_file_size= must be a positive number"):
        resolve({}, {"max_file_size": -1})


def test_string_booleans_from_the_environment():
    assert resolve({"DROPZONE_UPLOAD_MULTIPLE": "true"}).upload_multiple is True
    assert resolve({"DROPZONE_UPLOAD_MULTIPLE": "False"}).upload_multiple is False


def test_unknown_file_type_names_the_valid_keys():
    with pytest.raises(SettingError) as error:
        resolve({"DROPZONE_ALLOWED_FILE_TYPE": "images"})
    message = str(error.value)
    assert "'images'" in message
    for key in allowed_file_extensions:
        assert key in message


def test_bad_setting_fails_at_init_app(make_app):
    with pytest.raises(SettingError, match="pictures"):
        make_app(DROPZONE_ALLOWED_FILE_TYPE="pictures")


def test_file_type_groups():
    assert set(allowed_file_extensions) == {
        "default",
        "image",
        "web_image",
        "audio",
        "video",
        "text",
        "app",
    }
    assert resolve({}).accepted_files is None  # default accepts every file
    images = resolve({"DROPZONE_ALLOWED_FILE_TYPE": "image"}).accepted_files
    assert "image/png" in images and "svg" not in images and "image/*" not in images
    assert resolve({"DROPZONE_ALLOWED_FILE_TYPE": "app"}).accepted_files == "application/*"


def test_web_image_holds_the_images_every_browser_shows():
    web = resolve({"DROPZONE_ALLOWED_FILE_TYPE": "web_image"}).accepted_files
    assert web == "image/jpeg,image/png,image/gif,image/webp,image/avif,.avif"
    images = resolve({"DROPZONE_ALLOWED_FILE_TYPE": "image"}).accepted_files
    assert set(web.split(",")) < set(images.split(","))  # image is as it was: web_image and more
    for unshown in (
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/bmp",
        "image/x-icon",
        ".heic",
        ".ico",
    ):
        assert unshown in images.split(",") and unshown not in web.split(","), unshown
    assert "svg" not in web and "image/*" not in web


def test_every_group_has_words_for_people():
    from flask_dropzone._rules.settings import GROUP_WORDS

    assert set(GROUP_WORDS) == set(allowed_file_extensions)
    assert [name for name, words in GROUP_WORDS.items() if not words] == ["default"]


def test_custom_file_types_are_checked_and_normalised():
    options = resolve(
        {"DROPZONE_ALLOWED_FILE_CUSTOM": True, "DROPZONE_ALLOWED_FILE_TYPE": "image/*, .pdf ,.txt"}
    )
    assert options.accepted_files == "image/*,.pdf,.txt"
    with pytest.raises(SettingError, match="'png'"):
        resolve({"DROPZONE_ALLOWED_FILE_CUSTOM": True, "DROPZONE_ALLOWED_FILE_TYPE": "png"})


def test_options_are_immutable():
    options = Options()
    with pytest.raises(AttributeError):
        options.max_file_size = 5  # type: ignore[misc]


def test_remembered_options_tell_markup_from_text():
    from markupsafe import Markup

    text = resolve({}, {"default_message": "<b>x</b>"})
    markup = resolve({}, {"default_message": Markup("<b>x</b>")})
    assert type(text.default_message) is str and type(markup.default_message) is Markup
    assert resolve({"DROPZONE_MAX_FILE_SIZE": 4}).max_file_size == 4
    assert resolve({"DROPZONE_MAX_FILE_SIZE": 5}).max_file_size == 5


@pytest.mark.parametrize("value", ["", 7, ["a"]])
def test_an_app_id_that_names_nothing_fails_at_start_up(value, make_app):
    with pytest.raises(SettingError, match="DROPZONE_APP_ID"):
        make_app(DROPZONE_APP_ID=value)


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("DROPZONE_MAX_FILESIZE", "DROPZONE_MAX_FILE_SIZE"),
        ("DROPZONE_ALLOWED_FILE_TYPES", "DROPZONE_ALLOWED_FILE_TYPE"),
        ("DROPZONE_S3_BUKET", "DROPZONE_S3_BUCKET"),
    ],
)
def test_a_misspelled_setting_fails_at_start_up_with_the_setting_meant(key, meant, make_app):
    with pytest.raises(
        SettingError, match=f"{key} is not a Flask-Dropzone setting. Did you mean {meant}?"
    ):
        make_app(**{key: 10})


def test_a_file_size_given_in_bytes_is_told_to_be_mib(make_app):
    with pytest.raises(
        SettingError, match=r"DROPZONE_MAX_FILE_SIZE is in MiB: 10000000 MiB is 9.5 TiB"
    ):
        make_app(DROPZONE_MAX_FILE_SIZE=10_000_000)


def test_a_chunk_size_given_in_mib_is_told_to_be_bytes(make_app):
    app = make_app(dropzone=False, DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=4)
    with pytest.raises(
        SettingError,
        match=r"DROPZONE_CHUNK_SIZE is in bytes: 4 bytes per chunk would send a 1 GiB "
        r"file in 268,435,456 requests; for 4 MiB write 4194304",
    ):
        Dropzone(app)
    app.config["DROPZONE_CHUNK_SIZE"] = 1024
    Dropzone(app)  # a KiB is small, but meant


def test_relative_folders_are_in_the_instance_folder_not_the_working_directory(
    tmp_path, monkeypatch, make_app
):
    import io

    monkeypatch.chdir(tmp_path)  # wherever the app happens to be started from
    app = make_app(DROPZONE_UPLOAD_FOLDER="media", DROPZONE_CHUNK_FOLDER="partial")
    dropzone = app.extensions["dropzone"]
    app.add_url_rule(
        "/up",
        "up",
        lambda: {"at": [s.path for s in dropzone.save(folder="avatars")]},
        methods=["POST"],
    )
    app.add_url_rule(
        "/plain", "plain", lambda: {"at": [s.path for s in dropzone.save()]}, methods=["POST"]
    )
    client = app.test_client()
    avatar = client.post("/up", data={"file": (io.BytesIO(b"a"), "a.txt")}).json["at"]
    plain = client.post("/plain", data={"file": (io.BytesIO(b"b"), "b.txt")}).json["at"]
    assert avatar == [str(tmp_path / "instance" / "avatars" / "a.txt")]
    assert plain == [str(tmp_path / "instance" / "media" / "b.txt")]
    assert not (tmp_path / "media").exists() and not (tmp_path / "avatars").exists()
    with app.app_context():
        from flask_dropzone._protocol import folders

        assert folders.chunk_folder(resolve(app.config)) == str(tmp_path / "instance" / "partial")

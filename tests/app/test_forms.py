"""DropzoneField: a form's files upload as they are dropped, survive a form that comes back
with errors, are judged by Flask-WTF's validators, and are stored when the view claims them."""

from __future__ import annotations

import io
import os
import threading

import pytest
from flask import redirect, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileRequired, FileSize

from flask_dropzone import file_stored
from flask_dropzone._rules import pending
from flask_dropzone.forms import DropzoneField

from support.forms import (
    PAGE,
    PNG,
    OtherForm,
    PostForm,
    field_config,
    pending_count,
    reference,
    stored,
    upload,
)
from support.html import parse, zone_configs
from support.s3 import bucket_keys


def kept_references(html: str) -> list[str]:
    """The field's files a re-rendered form keeps (without JavaScript: a checked box each)."""
    return [
        attrs["value"]
        for tag, attrs, _ in parse(html)
        if tag == "input" and attrs.get("type") == "checkbox" and attrs.get("name") == "photos"
    ]


def test_a_file_kept_pending_survives_a_form_error_and_is_stored_once_claimed(form_app):
    app = form_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    assert stored(app) == [] and pending_count(app) == 1  # uploaded, not stored
    again = client.post("/post", data={"title": "", "photos": ref})
    assert again.status_code == 200  # a form error: the title
    assert kept_references(again.get_data(as_text=True)) == [ref]  # the file is still there
    (config,) = zone_configs(again.get_data(as_text=True))
    assert [entry["name"] for entry in config["field"]["pending"]] == ["a.png"]
    assert stored(app) == []  # validation alone stores nothing
    done = client.post("/post", data={"title": "Holiday", "photos": ref})
    assert done.status_code == 302 and stored(app) == ["a.png"] and pending_count(app) == 0
    (saved,) = app.claimed[0]
    assert (saved.filename, saved.stored_name, saved.size) == ("a.png", "a.png", len(PNG))
    replay = client.post("/post", data={"title": "Holiday", "photos": ref})
    assert replay.status_code == 200 and pending.NOT_KEPT in replay.get_data(as_text=True)
    assert stored(app) == ["a.png"]  # claimed once


def test_the_fields_empty_zone_states_the_fields_rules(form_app):
    client = form_app().test_client()
    said = field_config(client)["options"]["dictDefaultMessage"]
    assert said == (
        "Drop files here or click to upload. Allowed: Images (PNG, JPEG, GIF, WebP, AVIF, BMP, TIFF, "
        "HEIC/HEIF, ICO). Max filesize: 1 MiB. Max files: 3."
    )


def test_the_validators_of_flask_wtf_judge_pending_files(form_app):
    class Strict(FlaskForm):
        photos = DropzoneField(
            "Photos", validators=[FileRequired(), FileAllowed(["jpg"]), FileSize(max_size=100)]
        )

    app = form_app(form=Strict)
    client = app.test_client()
    assert "This field is required." in client.post("/post", data={}).get_data(as_text=True)
    ref = reference(client, field_config(client))
    text = client.post("/post", data={"photos": ref}).get_data(as_text=True)
    assert "File does not have an approved extension: jpg" in text
    jpg = reference(client, field_config(client), "b.jpg", b"\xff\xd8\xff\xe0" + bytes(300))
    assert "File must be between 0 and 100 bytes." in client.post(
        "/post", data={"photos": jpg}
    ).get_data(as_text=True)
    assert stored(app) == []


def test_file_allowed_and_file_size_errors_name_every_file_they_refuse(form_app):
    class Named(FlaskForm):
        photos = DropzoneField(
            "Photos",
            validators=[FileRequired(), FileAllowed(["png"]), FileSize(max_size=300)],
            allowed_file_type="image",
        )

    def errors(refs) -> list[str]:
        html = client.post("/post", data={"photos": refs}).get_data(as_text=True)
        return [text for tag, _, text in parse(html) if tag == "p"]

    app = form_app(form=Named)
    client = app.test_client()
    config = field_config(client)
    good, small_jpg, gif = (
        reference(client, config, name, data)
        for name, data in [
            ("a.png", PNG),
            ("b.jpg", b"\xff\xd8\xff\xe0" + bytes(100)),
            ("c.gif", b"GIF89a" + bytes(100)),
        ]
    )
    assert errors([good, small_jpg, gif]) == [
        "photos: b.jpg, c.gif: File does not have an approved extension: png"
    ]
    big = reference(client, config, "big.png", PNG + bytes(400))
    assert errors([big, good]) == ["photos: big.png: File must be between 0 and 300 bytes."]
    assert errors([]) == ["photos: This field is required."]  # no file to name
    assert stored(app) == []


@pytest.mark.parametrize(
    "how", ["forged", "tampered", "another client's", "another field's", "another form's"]
)
def test_a_reference_that_is_no_file_of_this_field_is_a_field_error(how, form_app):
    app = form_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    if how == "forged":
        value = "eyJjIjoibWUifQ.forged.signature"
    elif how == "tampered":
        value = ref[:-3] + ("abc" if not ref.endswith("abc") else "xyz")
    elif how == "another client's":
        value, client = ref, app.test_client()
    elif how == "another field's":
        value = _reference_of_another_field(client)
    else:
        other = form_app(instance="other", form=OtherForm)
        other_client = other.test_client()
        with client.session_transaction() as mine, other_client.session_transaction() as theirs:
            theirs.update(mine)
        value = reference(other_client, field_config(other_client))
    response = client.post("/post", data={"title": "x", "photos": value})
    assert response.status_code == 200 and pending.NOT_KEPT in response.get_data(as_text=True)
    assert stored(app) == []


def _reference_of_another_field(client) -> str:
    """A reference the same client got for the ``scans`` field of another form of the app."""
    configs = {
        config["field"]["name"]: config
        for config in zone_configs(client.get("/two").get_data(as_text=True))
    }
    return reference(client, configs["scans"])


def test_duplicates_are_dropped_and_more_than_max_files_is_an_error(form_app):
    app = form_app()
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, f"{n}.png") for n in range(4)]
    assert (
        client.post("/post", data={"title": "x", "photos": [refs[0], refs[0]]}).status_code == 302
    )
    assert stored(app) == ["0.png"]
    response = client.post("/post", data={"title": "x", "photos": refs[1:] + [refs[1]]})
    assert response.status_code == 302  # three, once each
    too_many = [reference(client, config, f"m{n}.png") for n in range(4)]
    text = client.post("/post", data={"title": "x", "photos": too_many}).get_data(as_text=True)
    assert "You can&#39;t upload any more files (at most 3)." in text


def test_a_file_the_zone_refuses_never_becomes_pending(form_app):
    app = form_app()
    client = app.test_client()
    config = field_config(client)
    answer = upload(client, config, "notes.txt", b"text")
    assert answer.status_code == 415 and pending_count(app) == 0
    fake = upload(client, config, "fake.png", b"MZ" + bytes(100))
    assert (fake.status_code, fake.get_data(as_text=True)) == (
        415,
        "Its name says PNG, but its content is not.",
    )
    big = upload(client, config, "big.png", PNG + bytes(2 * 1024 * 1024))
    assert big.status_code == 413 and pending_count(app) == 0


def test_without_javascript_posted_files_become_pending_and_survive_a_form_error(form_app):
    app = form_app()
    client = app.test_client()
    response = client.post("/post", data={"title": "", "photos": (io.BytesIO(PNG), "plain.png")})
    assert response.status_code == 200 and stored(app) == [] and pending_count(app) == 1
    (ref,) = kept_references(response.get_data(as_text=True))
    refused = client.post("/post", data={"title": "", "photos": (io.BytesIO(b"text"), "notes.txt")})
    assert "notes.txt: You can&#39;t upload files of this type." in refused.get_data(as_text=True)
    done = client.post("/post", data={"title": "Plain", "photos": ref})
    assert done.status_code == 302 and stored(app) == ["plain.png"]


def test_the_widget_renders_a_zone_inside_the_form_with_no_inline_script(form_app):
    app = form_app()
    html = app.test_client().get("/post").get_data(as_text=True)
    elements = parse(html)
    assert [tag for tag, _, _ in elements if tag == "form"] == ["form"]  # no nested form
    (zone,) = [attrs for tag, attrs, _ in elements if attrs.get("class") == "dropzone"]
    assert zone["id"] == "photos" and "data-flask-dropzone" in zone
    (fallback,) = [attrs for tag, attrs, _ in elements if attrs.get("type") == "file"]
    (without_script,) = [attrs for tag, attrs, _ in elements if "data-dropzone-fallback" in attrs]
    assert (
        fallback["name"] == "photos"
        and "multiple" in fallback
        and without_script["data-dropzone-fallback"] == "photos"
    )
    assert (
        zone["role"] == "group" and zone["aria-label"] == fallback["aria-label"] == "Photos"
    )  # the field's label
    scripts = [(attrs, text) for tag, attrs, text in elements if tag == "script"]
    assert all(
        attrs.get("type") == "application/json" or (attrs.get("src") and not text.strip())
        for attrs, text in scripts
    )


def test_the_widget_takes_attributes_as_wtforms_widgets_do(form_app):
    app = form_app()
    page = (
        '{{ form.photos(id="gallery", class_="wide", data_kind="photos", render_kw_ignored=None) }}'
    )
    with app.test_request_context("/post"):
        from flask import render_template_string

        html = render_template_string(page, form=PostForm())
    elements = parse(html)
    (zone,) = [attrs for tag, attrs, _ in elements if "data-flask-dropzone" in attrs]
    assert (zone["id"], zone["class"], zone["data-kind"]) == ("gallery", "dropzone wide", "photos")
    (config,) = zone_configs(html)
    (without_script,) = [attrs for tag, attrs, _ in elements if "data-dropzone-fallback" in attrs]
    assert config["id"] == without_script["data-dropzone-fallback"] == "gallery"


def test_an_unknown_setting_or_a_bad_value_fails_where_the_form_is_defined():
    from flask_dropzone import SettingError

    with pytest.raises(TypeError, match="Did you mean 'max_file_size'"):

        class Typo(FlaskForm):
            photos = DropzoneField(max_filesize=3)

    with pytest.raises(
        SettingError, match=r"DropzoneField\(\): chunk_size= is in bytes: 4 bytes per chunk"
    ):

        class Units(FlaskForm):
            video = DropzoneField(chunking=True, chunk_size=4)

    with pytest.raises(
        SettingError, match=r"DropzoneField\(\): max_files= must be at least 1, got 0"
    ):

        class Zero(FlaskForm):
            photos = DropzoneField(max_files=0)


def test_a_field_without_a_secret_key_says_it_needs_one(form_app):
    from flask_dropzone import SettingError

    app = form_app()
    app.config["SECRET_KEY"] = None
    with (
        app.test_request_context("/post"),
        pytest.raises(SettingError, match="DropzoneField needs Flask's SECRET_KEY"),
    ):
        render_template_string("{{ form.photos() }}", form=OtherForm())


def test_claims_at_the_same_time_store_each_file_once(form_app):
    app = form_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    cookie = client.get_cookie("session")
    barrier, statuses = threading.Barrier(4), []

    def submit():
        other = app.test_client()
        other.set_cookie(cookie.key, cookie.value)
        barrier.wait()
        statuses.append(other.post("/post", data={"title": "x", "photos": ref}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert stored(app) == ["a.png"]
    assert sum(len(claimed) for claimed in app.claimed) == 1
    # never a 500: one post made; the others told (409) or the field's error (200)
    assert len(statuses) == 4 and statuses.count(302) == 1 and set(statuses) <= {200, 302, 409}


def test_a_removed_pending_file_is_discarded_at_once(form_app):
    app = form_app()
    client = app.test_client()
    config = field_config(client)
    ref = reference(client, config)
    response = client.post(config["field"]["discardUrl"], data={"reference": ref})
    assert response.status_code == 200 and pending_count(app) == 0
    assert client.post(config["field"]["discardUrl"], data={"reference": ref}).status_code == 404
    stranger = app.test_client()
    ref = reference(client, config)
    assert stranger.post(config["field"]["discardUrl"], data={"reference": ref}).status_code == 404
    assert pending_count(app) == 1


def test_old_pending_files_are_refused_and_cleaned(tmp_path, monkeypatch, form_app):
    import itsdangerous.timed

    app = form_app(DROPZONE_PENDING_EXPIRES=600)
    client = app.test_client()
    ref = reference(client, field_config(client))
    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 601)
    response = client.post("/post", data={"title": "x", "photos": ref})
    assert pending.NOT_KEPT in response.get_data(as_text=True)
    monkeypatch.undo()
    folder = tmp_path / "instance" / "dropzone-chunks" / "pending"
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (now - 700, now - 700))
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.exit_code == 0 and "1 pending file" in result.output and pending_count(app) == 0


def test_a_pending_image_is_sent_back_to_its_client_only(form_app):
    app = form_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    html = client.post("/post", data={"title": "", "photos": ref}).get_data(as_text=True)
    (config,) = zone_configs(html)
    thumbnail = config["field"]["pending"][0]["thumbnail"]
    picture = client.get(thumbnail)
    assert picture.status_code == 200 and picture.data == PNG
    assert (
        picture.headers["X-Content-Type-Options"] == "nosniff"
        and "sandbox" in picture.headers["Content-Security-Policy"]
    )
    assert app.test_client().get(thumbnail).status_code == 404


def test_stored_files_are_shown_and_their_removal_is_told_to_the_view(form_app):
    app = form_app()
    seen = {}

    @app.route("/edit", methods=["GET", "POST"])
    def edit():
        form = PostForm()
        form.photos.existing = [
            {"name": "old.png", "filename": "Old photo.png", "size": 3},
            {"name": "kept.png", "size": 4},
        ]
        if form.validate_on_submit():
            seen["removed"] = [item["name"] for item in form.photos.removed]
            return redirect("/done")
        return render_template_string(PAGE, form=form)

    client = app.test_client()
    html = client.get("/edit").get_data(as_text=True)
    (config,) = zone_configs(html)
    assert [entry.get("filename") for entry in config["existing"]] == ["Old photo.png", None]
    keeps = {entry["name"]: entry["keep"] for entry in config["existing"]}
    assert client.post("/edit", data={"title": "x", "photos": keeps["kept.png"]}).status_code == 302
    assert seen["removed"] == ["old.png"]  # the view decides; the field deleted nothing


def test_an_objects_files_are_the_fields_existing_files_and_populate_obj_leaves_them(form_app):
    from types import SimpleNamespace

    from flask_dropzone import SavedFile

    app = form_app()
    photo = SavedFile("Sea.png", "sea.png", None, 3, "image/png", "sea.png")
    post = SimpleNamespace(title="Trip", photos=[photo])
    seen = {}

    @app.route("/edit", methods=["GET", "POST"])
    def edit():
        form = PostForm(obj=post)
        if form.validate_on_submit():
            form.populate_obj(post)
            seen["removed"] = form.photos.removed
            return redirect("/done")
        return render_template_string(PAGE, form=form)

    client = app.test_client()
    (config,) = zone_configs(client.get("/edit").get_data(as_text=True))
    assert [entry["name"] for entry in config["existing"]] == ["sea.png"] and config["field"][
        "pending"
    ] == []
    new = reference(client, field_config(client, "/edit"))
    assert client.post("/edit", data={"title": "Trip 2", "photos": new}).status_code == 302
    assert seen["removed"] == [photo] and post.photos == [photo] and post.title == "Trip 2"


def test_file_stored_is_sent_for_each_claimed_file(form_app):
    app = form_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved.stored_name), app, weak=False)
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, "a.png"), reference(client, config, "b.png")]
    assert client.post("/post", data={"title": "x", "photos": refs}).status_code == 302
    assert heard == ["a.png", "b.png"]


# On S3: pending files in the bucket's own prefix, claimed by one copy ----------------------


def test_on_s3_a_pending_file_survives_a_form_error_and_is_claimed_once(
    tmp_path, s3_settings, form_app
):
    app = form_app(**s3_settings)
    client = app.test_client()
    ref = reference(client, field_config(client))
    keys = bucket_keys(app)
    assert [key for key in keys if not key.startswith("uploads/_dropzone/")] == []  # nothing stored
    assert [
        key for key in keys if "/pending-files/" in key
    ]  # in the store's own prefix, not the disk
    assert not (tmp_path / "instance" / "dropzone-chunks").exists()
    assert client.post("/post", data={"title": "", "photos": ref}).status_code == 200
    assert client.post("/post", data={"title": "x", "photos": ref}).status_code == 302
    assert [key for key in bucket_keys(app) if not key.startswith("uploads/_dropzone/")] == [
        "uploads/a.png"
    ]
    assert not [
        key for key in bucket_keys(app) if "/pending-files/" in key and not key.endswith(".claim")
    ]
    assert pending.NOT_KEPT in client.post("/post", data={"title": "x", "photos": ref}).get_data(
        as_text=True
    )


def test_on_s3_claims_at_the_same_time_store_the_file_once(s3_settings, form_app):
    app = form_app(**s3_settings)
    client = app.test_client()
    ref = reference(client, field_config(client))
    cookie = client.get_cookie("session")
    barrier = threading.Barrier(4)

    def submit():
        other = app.test_client()
        other.set_cookie(cookie.key, cookie.value)
        barrier.wait()
        other.post("/post", data={"title": "x", "photos": ref})

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [key for key in bucket_keys(app) if not key.startswith("uploads/_dropzone/")] == [
        "uploads/a.png"
    ]
    assert sum(len(claimed) for claimed in app.claimed) == 1


def test_a_pending_picture_no_browser_shows_gets_no_thumbnail(form_app):
    app = form_app()
    client = app.test_client()
    config = field_config(client)
    tiff = b"II*\x00\x08\x00\x00\x00" + bytes(200)
    refs = [reference(client, config, "scan.tif", tiff), reference(client, config, "a.png")]
    (again,) = zone_configs(
        client.post("/post", data={"title": "", "photos": refs}).get_data(as_text=True)
    )
    thumbnails = {entry["name"]: entry["thumbnail"] for entry in again["field"]["pending"]}
    assert thumbnails["scan.tif"] is None and thumbnails["a.png"].startswith(
        "/dropzone/pending/file?"
    )

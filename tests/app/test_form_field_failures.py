"""DropzoneField when things go wrong in a real app: a store that cannot be used, a claim that
fails midway, a form sent twice, hostile or odd references. The person is told, in the form
where that is possible; never a 500, never a post made silently without its file, never a
file stored twice."""

from __future__ import annotations

import errno
import io
import os

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.file import FileSize
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone import AlreadyClaimed, SettingError, StoreUnavailable, UploadRefused
from flask_dropzone import _stores as stores
from flask_dropzone._rules import pending
from flask_dropzone.forms import STORE_DOWN, DropzoneField

from support.chunking import CONTENT_TYPE, chunk_requests
from support.forms import PAGE, PNG, field_config, pending_count, reference, stored, upload
from support.html import zone_configs
from support.s3 import bucket_keys, dead_endpoint


class TwoPhotos(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField("Photos", allowed_file_type="image", max_files=3)


@pytest.fixture
def two_photo_app(make_app):
    """A blog's new-post view; ``catch``: on a store failure during claim() it shows the
    form again with the error, else it leaves the error to the extension."""

    def make(catch: bool = True, **config) -> Flask:
        app = make_app(WTF_CSRF_ENABLED=False, **config)
        app.claimed = []  # type: ignore[attr-defined]

        @app.route("/post", methods=["GET", "POST"])
        def post():
            form = TwoPhotos()
            if form.validate_on_submit():
                try:
                    app.claimed.append(form.photos.claim())  # type: ignore[attr-defined]
                except StoreUnavailable as error:
                    if not catch:
                        raise
                    form.photos.errors.append(error.description)
                    return render_template_string(PAGE, form=form), 503
                return "posted"
            return render_template_string(PAGE, form=form)

        return app

    return make


# A store that cannot be used ----------------------------------------------------------------


def test_on_s3_a_store_outage_is_a_plain_503_at_the_pending_endpoint(s3_settings, form_app):
    app = form_app(**s3_settings)
    client = app.test_client()
    config = field_config(client)
    dead_endpoint(app)
    answer = upload(client, config)
    assert answer.status_code == 503 and answer.mimetype == "text/plain"
    assert (
        answer.get_data(as_text=True) == "The server cannot store files right now; try again later."
    )


def test_on_s3_a_form_sent_during_an_outage_comes_back_with_what_was_typed_and_a_field_error(
    s3_settings, form_app
):
    app = form_app(**s3_settings)
    client = app.test_client()
    ref = reference(client, field_config(client))
    live = stores.of(app).files._client
    dead_endpoint(app)
    answer = client.post("/post", data={"title": "My long story", "photos": ref})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'value="My long story"' in html and STORE_DOWN in html
    stores.of(app).files._client = live  # back: the same form goes
    assert client.post("/post", data={"title": "My long story", "photos": ref}).status_code == 302
    assert [saved.filename for saved in app.claimed[0]] == ["a.png"]


def test_claim_raises_store_unavailable_an_app_may_catch_or_leave_as_a_plain_503(
    s3_settings, two_photo_app
):
    app = two_photo_app(catch=False, **s3_settings)
    client = app.test_client()
    ref = reference(client, field_config(client))

    def failing(*args, **kwargs):
        raise stores.StoreUnavailable("bucket 'b': 503 SlowDown")

    files = stores.of(app).files
    original, files._copy_new = files._copy_new, failing
    answer = client.post("/post", data={"title": "x", "photos": ref})
    assert answer.status_code == 503 and answer.mimetype == "text/plain"
    assert issubclass(StoreUnavailable, UploadRefused) and StoreUnavailable.code == 503
    files._copy_new = original
    assert (
        client.post("/post", data={"title": "x", "photos": ref}).get_data(as_text=True) == "posted"
    )


# A claim that fails midway --------------------------------------------------------------------


def claim_keys(app) -> list[str]:
    return [key for key in bucket_keys(app) if key.endswith(".claim")]


def test_on_s3_a_copy_that_fails_after_the_claim_gives_the_claim_back(s3_settings, two_photo_app):
    app = two_photo_app(**s3_settings)
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, "a.png"), reference(client, config, "b.png")]
    files = stores.of(app).files
    original, calls = files._copy_new, []

    def second_fails(source, key, size):
        calls.append(key)
        if len(calls) == 2:  # a 5xx that boto3's retries did not absorb
            raise stores.StoreUnavailable("bucket: 500 InternalError")
        return original(source, key, size)

    files._copy_new = second_fails
    answer = client.post("/post", data={"title": "x", "photos": refs})
    assert answer.status_code == 503 and "cannot store files right now" in answer.get_data(
        as_text=True
    )
    assert claim_keys(app) == []  # both claims given back, conditionally on their own bodies
    assert [
        key for key in bucket_keys(app) if not key.startswith("uploads/_dropzone/")
    ] == []  # a.png's copy went
    files._copy_new = original
    assert (
        client.post("/post", data={"title": "x", "photos": refs}).get_data(as_text=True) == "posted"
    )
    assert [saved.stored_name for saved in app.claimed[0]] == ["a.png", "b.png"]


def test_on_disk_a_claim_that_fails_midway_leaves_every_file_pending(monkeypatch, two_photo_app):
    from flask_dropzone._stores.disk import files as disk

    app = two_photo_app()
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, "a.png"), reference(client, config, "b.png")]
    original, calls = disk.free_name, []

    def full_on_second(folder, name, create):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(folder, name, create)

    monkeypatch.setattr(disk, "free_name", full_on_second)
    answer = client.post("/post", data={"title": "x", "photos": refs})
    assert answer.status_code == 507 and stored(app) == [] and pending_count(app) == 2
    monkeypatch.undo()
    assert (
        client.post("/post", data={"title": "x", "photos": refs}).get_data(as_text=True) == "posted"
    )
    assert stored(app) == ["a.png", "b.png"] and pending_count(app) == 0


def test_on_s3_a_file_held_by_a_claim_that_died_is_told_not_silently_left_out(
    s3_settings, form_app
):
    app = form_app(**s3_settings)
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, "a.png"), reference(client, config, "b.png")]
    from flask_dropzone._rules import signing

    files = stores.of(app).files
    payload, _ = signing.loads(app, pending.REFERENCE_PURPOSE, refs[1], 3600)
    folder = files.pending_folder("", payload["c"])
    files.client.put_object(
        Bucket=files.bucket, Key=folder + payload["i"] + ".claim", Body=b"a worker killed midway"
    )
    answer = client.post("/post", data={"title": "x", "photos": refs})
    assert answer.status_code == 200 and pending.NOT_KEPT in answer.get_data(as_text=True)
    assert app.claimed == []  # no post made without b.png


# A form sent twice ----------------------------------------------------------------------------


def test_a_file_claimed_by_another_request_while_the_form_is_checked_is_a_field_error(
    s3_settings, monkeypatch, form_app
):
    """The race of a form sent twice, made deterministic: the other request's claim lands
    between the field's check and its validators' read (in a bucket, each read is a GET)."""

    def whole_picture(form, field):  # an app's validator that reads each file (its pixels, say)
        for each in field.data:
            each.read()
            each.seek(0)

    class Sized(FlaskForm):
        title = StringField(validators=[DataRequired()])
        photos = DropzoneField(
            "Photos", validators=[FileSize(1024 * 1024), whole_picture], allowed_file_type="image"
        )

    app = form_app(form=Sized, **s3_settings)
    client = app.test_client()
    ref = reference(
        client, field_config(client), data=PNG + bytes(300 * 1024)
    )  # read past the head
    from flask_dropzone._protocol import pending_files

    original = pending_files.PendingFile.read_head

    def claimed_meanwhile(self):
        head = original(self)
        self._store.client.delete_object(Bucket=self._store.bucket, Key=self.folder + self.found.id)
        return head

    monkeypatch.setattr(pending_files.PendingFile, "read_head", claimed_meanwhile)
    answer = client.post("/post", data={"title": "x", "photos": ref})
    assert answer.status_code == 200 and pending.NOT_KEPT in answer.get_data(as_text=True)
    assert app.claimed == []


# References: one spelling each, read by what they name ---------------------------------------


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def spellings(ref: str) -> list[str]:
    """Other spellings that itsdangerous's lenient decoder reads as the same value: padding,
    a stray character, and the signature's last character with its unused bits set."""
    value, signature = ref.rsplit(".", 1)
    last = ALPHABET.index(signature[-1])
    unused = (4 - len(signature) % 4) % 4 * 2  # bits of the last character that carry nothing
    other = ALPHABET[last | ((1 << unused) - 1)] if unused else signature[-1]
    return [ref + "=", ref + "==", ref + "\u00e9", ref + "!=", f"{value}.{signature[:-1]}{other}"]


def test_a_reference_spelled_otherwise_is_no_file_and_one_file_counts_once(form_app):
    app = form_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    from flask_dropzone._rules import signing

    serializer = signing.serializer(app, pending.REFERENCE_PURPOSE)
    assert len(set(spellings(ref))) == 5 and all(
        serializer.loads(each) for each in spellings(ref)
    )  # lenient
    answer = client.post("/post", data={"title": "x", "photos": [ref, *spellings(ref)]})
    assert answer.status_code == 200 and pending.NOT_KEPT in answer.get_data(as_text=True)
    assert "You can&#39;t upload any more files" not in answer.get_data(
        as_text=True
    )  # counted once
    assert client.post("/post", data={"title": "x", "photos": [ref, ref]}).status_code == 302
    assert [len(claimed) for claimed in app.claimed] == [1]


def test_on_s3_a_post_of_a_thousand_references_opens_no_more_than_max_files(s3_settings, form_app):
    app = form_app(**s3_settings)  # max_files=3
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, f"{index}.png") for index in range(5)]
    calls = []
    files = stores.of(app).files
    files.client.meta.events.register(
        "before-call.s3", lambda model, **kwargs: calls.append(model.name)
    )
    assert client.post("/post", data={"title": "", "photos": refs[:3]}).status_code == 200
    three = len(calls)
    calls.clear()
    hostile = [ref + "=" * (index % 3) for index in range(200) for ref in refs]  # 1,000 values
    answer = client.post("/post", data={"title": "x", "photos": hostile})
    assert answer.status_code == 200 and "You can&#39;t upload any more files" in answer.get_data(
        as_text=True
    )
    assert 0 < len(calls) <= three  # what three files cost: no more files opened


# The field's values, checked where the form is defined ------------------------------------------


def test_a_type_group_that_does_not_exist_fails_where_the_form_is_defined():
    with pytest.raises(
        SettingError,
        match=r"DropzoneField\(\): DROPZONE_ALLOWED_FILE_TYPE 'images' is not a known type",
    ):

        class Typo(FlaskForm):
            photos = DropzoneField(allowed_file_type="images")

    with pytest.raises(SettingError, match=r"'\.pdf' is not a file type|is not a known type"):

        class NotCustom(FlaskForm):
            papers = DropzoneField(allowed_file_type=".pdf", allowed_file_custom=False)

    with pytest.raises(SettingError, match="cannot both be on"):

        class Both(FlaskForm):
            papers = DropzoneField(chunking=True, upload_multiple=True)

    class Custom(FlaskForm):  # the app may list its own types
        papers = DropzoneField(allowed_file_type=".pdf,.txt")


def test_a_field_naming_a_zone_the_app_does_not_have_says_so_naming_the_field(form_app):
    class Zoned(FlaskForm):
        photos = DropzoneField("Photos", zone="gallery")

    app = form_app()
    with (
        app.test_request_context("/post"),
        pytest.raises(SettingError, match=r"DropzoneField .*Zoned\.photos.*'gallery'"),
    ):
        render_template_string("{{ form.photos() }}", form=Zoned())


# A chunked field without CSRFProtect ---------------------------------------------------------------


class Video(FlaskForm):
    video = DropzoneField("Video", chunking=True, chunk_size=64 * 1024, max_file_size=1)


def test_a_chunked_field_on_disk_takes_its_chunks_without_csrfprotect(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)

    @app.get("/video")
    def video():
        return render_template_string("{{ form.video() }}", form=Video())

    client = app.test_client()
    config = field_config(client, "/video")
    headers = {
        key: value for key, value in config["options"]["headers"].items() if key != "X-CSRF-Token"
    }
    data = os.urandom(200 * 1024)
    answers = [
        client.post(config["url"], data=body, headers=headers, content_type=CONTENT_TYPE)
        for body in chunk_requests(data, "film.bin", 64 * 1024)
    ]
    assert [answer.status_code for answer in answers] == [200] * 4, answers[-1].get_data(
        as_text=True
    )
    (entry,) = answers[-1].json["files"]
    assert entry["filename"] == "film.bin" and entry["size"] == len(data)


# Pending files swept, and the expired never counted ---------------------------------------------


def test_expired_pending_files_never_count_and_are_swept_after_pending_uploads(tmp_path, form_app):
    app = form_app(DROPZONE_UNFINISHED_UPLOADS=2, DROPZONE_PENDING_EXPIRES=600)
    client = app.test_client()
    config = field_config(client)
    reference(client, config, "a.png")
    reference(client, config, "b.png")
    assert upload(client, config, "c.png").status_code == 413  # two pending: the limit
    old = os.path.getmtime(tmp_path / "instance") - 700
    for path in (tmp_path / "instance" / "dropzone-chunks" / "pending").rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    # past PENDING_EXPIRES they are no files of the client's: they count for nothing
    with client.post(
        config["url"],
        data={"file": (io.BytesIO(PNG), "c.png")},
        headers={k: v for k, v in config["options"]["headers"].items() if k != "X-CSRF-Token"},
    ) as answer:
        assert answer.status_code == 200
    assert pending_count(app) == 1  # and the sweep, run after that upload, removed them


# A form sent twice: decided for the whole form ------------------------------------------------


def test_of_two_requests_claiming_one_forms_files_one_stores_them_all_and_the_other_none(
    two_photo_app,
):
    app = two_photo_app()
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, name) for name in ("a.png", "b.png", "c.png")]
    with app.test_request_context("/post", method="POST", data={"title": "x", "photos": refs}):
        from flask import session

        session.update(_session_of(app, client))
        first, second = TwoPhotos(), TwoPhotos()
        assert first.validate() and second.validate()  # both checked before either claims
        stored_first = first.photos.claim()
        with pytest.raises(AlreadyClaimed) as told:
            second.photos.claim()
        assert told.value.code == 409
        assert first.photos.claim() == stored_first  # asked again: the same files, stored once
    assert [saved.filename for saved in stored_first] == ["a.png", "b.png", "c.png"]
    assert stored(app) == ["a.png", "b.png", "c.png"] and pending_count(app) == 0


def test_a_claim_that_loses_one_file_gives_back_the_others(two_photo_app):
    app = two_photo_app()
    client = app.test_client()
    config = field_config(client)
    refs = [reference(client, config, name) for name in ("a.png", "b.png")]
    with app.test_request_context("/post", method="POST", data={"title": "x", "photos": refs}):
        from flask import session

        session.update(_session_of(app, client))
        form = TwoPhotos()
        assert form.validate()
        last = max(form.photos.data, key=lambda each: each.found.id)  # claimed last
        other = stores.of(app).files.claim(
            last.folder, last.found.id, form.photos.folder(), "x.png", last.size
        )
        with pytest.raises(AlreadyClaimed):
            form.photos.claim()
        assert stored(app) == ["x.png"]  # the other claim's; the first file was given back
        other.undo()  # the other claim gave up: the form can be claimed again
        again = TwoPhotos()
        assert again.validate() and [saved.filename for saved in again.photos.claim()] == [
            "a.png",
            "b.png",
        ]
    assert stored(app) == ["a.png", "b.png"] and pending_count(app) == 0


def _session_of(app, client) -> dict:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)


def test_claim_stores_where_the_view_says_a_persons_own_folder(tmp_path, two_photo_app):
    app = two_photo_app()
    client = app.test_client()
    ref = reference(client, field_config(client))
    with app.test_request_context("/post", method="POST", data={"title": "x", "photos": ref}):
        from flask import session

        session.update(_session_of(app, client))
        form = TwoPhotos()
        assert form.validate()
        (saved,) = form.photos.claim(folder="users/7")
    assert (
        saved.path == str(tmp_path / "instance" / "users" / "7" / "a.png")
        and saved.stored_name == "a.png"
    )


# Existing files: one file however the app gives it ----------------------------------------------


def test_an_existing_file_given_as_a_row_or_a_saved_file_is_the_same_file(tmp_path, two_photo_app):
    """The page shows the post's files as rows with thumbnails; the view that takes the form
    back has them as SavedFiles: a file kept is kept, whatever form it was given in."""
    import dataclasses

    from flask_dropzone import SavedFile
    from flask_dropzone._rules import signing

    app = two_photo_app()
    folder = tmp_path / "instance" / "uploads"
    folder.mkdir(parents=True)
    (folder / "sea.png").write_bytes(PNG)
    photo = SavedFile(
        "Sea.png",
        "sea.png",
        str(folder / "sea.png"),
        len(PNG),
        "image/png",
        str(folder / "sea.png"),
    )
    seen = {}

    @app.route("/edit", methods=["GET", "POST"])
    def edit():
        form = TwoPhotos(data={"photos": [photo]})
        if form.validate_on_submit():
            seen["removed"] = form.photos.removed
            return "edited"
        form.photos.existing = [{**dataclasses.asdict(photo), "thumbnail": "/thumbs/sea.png"}]
        return render_template_string(PAGE, form=form)

    client = app.test_client()
    (config,) = zone_configs(client.get("/edit").get_data(as_text=True))
    (entry,) = config["existing"]
    assert (entry["name"], entry["filename"], entry["thumbnail"]) == (
        "sea.png",
        "Sea.png",
        "/thumbs/sea.png",
    )
    with app.app_context():
        payload, _ = signing.loads(app, pending.KEPT_PURPOSE, entry["keep"], 60)
    assert payload["k"] == "/sea.png" and str(tmp_path) not in entry["keep"]  # no server path
    assert (
        client.post("/edit", data={"title": "x", "photos": entry["keep"]}).get_data(as_text=True)
        == "edited"
    )
    assert seen["removed"] == []  # kept: nothing for the view to delete


def test_on_s3_expired_pending_files_never_count_and_are_swept_after_pending_uploads(
    s3_settings, form_app
):
    import time

    app = form_app(DROPZONE_UNFINISHED_UPLOADS=2, DROPZONE_PENDING_EXPIRES=4, **s3_settings)
    client = app.test_client()
    config = field_config(client)
    reference(client, config, "a.png")
    reference(client, config, "b.png")
    assert upload(client, config, "c.png").status_code == 413  # two pending: the limit
    time.sleep(5)  # past PENDING_EXPIRES (S3 dates objects to the second)
    config = field_config(client)  # the page again: its ticket expired with them
    with upload(client, config, "c.png") as answer:  # the sweep runs once the answer is sent
        assert answer.status_code == 200
    pending_files = [key for key in bucket_keys(app) if "/pending-files/" in key]
    assert len(pending_files) == 1, pending_files  # a.png and b.png swept, small as they are

"""dropzone.files() and dropzone.save() on real requests (Flask's test client)."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import tracemalloc

import pytest
from flask import request
from werkzeug.datastructures import FileStorage

from flask_dropzone import SavedFile, Upload
from flask_dropzone._stores.disk import files as storage

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture
def app(make_app):
    app = make_app()
    app.extensions["test_seen"] = []
    dropzone = app.extensions["dropzone"]

    @app.post("/files")
    def files():
        found = dropzone.files(**request.args)
        return {
            "files": [
                [f.name, f.filename, f.size, f.detected_type, f.read().decode("latin-1")]
                for f in found
            ]
        }

    @app.post("/save")
    def save():
        saved = dropzone.save(**request.args)
        return {"saved": [[s.filename, s.stored_name, s.size, s.mimetype] for s in saved]}

    @app.post("/answer")
    def answer():
        return dropzone.answer(dropzone.save(**request.args))

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def upload_folder(app) -> str:
    return os.path.join(app.instance_path, "uploads")


def post(client, url, files, **fields):
    data = dict(fields)
    data.update({name: (io.BytesIO(content), filename) for name, filename, content in files})
    return client.post(url, data=data, content_type="multipart/form-data")


def test_single_file(client):
    response = post(client, "/files", [("file", "a.txt", b"hello")])
    assert response.json == {"files": [["file", "a.txt", 5, "text/plain", "hello"]]}


def test_upload_multiple_fields_in_index_order(client):
    files = [
        (f"file[{index}]", f"f{index}.txt", str(index).encode()) for index in (10, 2, 0, 1, 9, 11)
    ]
    response = post(client, "/files", files)
    assert [entry[0] for entry in response.json["files"]] == [
        "file[0]",
        "file[1]",
        "file[2]",
        "file[9]",
        "file[10]",
        "file[11]",
    ]


def test_repeated_fields_keep_their_order(client):
    body = multipart([("file", "b.txt", b"b"), ("file", "a.txt", b"a"), ("other", "x.txt", b"x")])
    response = client.post(
        "/files", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert [entry[1] for entry in response.json["files"]] == ["b.txt", "a.txt"]


def test_input_name_setting_and_keyword(client, app):
    assert post(
        client, "/files?input_name=photo", [("photo", "p.txt", b"p"), ("file", "f.txt", b"f")]
    ).json["files"][0][:2] == ["photo", "p.txt"]
    app.config["DROPZONE_INPUT_NAME"] = "doc"
    assert post(client, "/files", [("doc[0]", "d.txt", b"d")]).json["files"][0][:2] == [
        "doc[0]",
        "d.txt",
    ]


def test_empty_file_fields_are_ignored(client):
    assert post(client, "/files", [("file", "", b"")]).json == {"files": []}


def test_not_multipart_gives_no_files(client):
    assert client.post("/files", data=b"raw", content_type="application/octet-stream").json == {
        "files": []
    }


def test_other_fields_and_files_stay_available_to_the_view(app, client):
    seen = {}

    @app.post("/mixed")
    def mixed():
        app.extensions["dropzone"].files()
        seen["form"] = request.form.to_dict()
        seen["other"] = request.files["attachment"].read()
        return ""

    post(client, "/mixed", [("file", "a.txt", b"a"), ("attachment", "x.bin", b"xyz")], title="T")
    assert seen == {"form": {"title": "T"}, "other": b"xyz"}


def test_save_stores_under_safe_names_and_reports_them(client, app):
    response = post(client, "/save", [("file", "../../中文 photo.png", PNG)])
    assert response.json == {
        "saved": [["../../中文 photo.png", "中文 photo.png", len(PNG), "image/png"]]
    }
    with open(os.path.join(upload_folder(app), "中文 photo.png"), "rb") as stored:
        assert stored.read() == PNG


def test_save_never_overwrites(client, app):
    for content in (b"one", b"two", b"three"):
        post(client, "/save", [("file", "same.txt", content)])
    folder = upload_folder(app)
    assert {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)} == {
        "same.txt": b"one",
        "same (1).txt": b"two",
        "same (2).txt": b"three",
    }


def test_save_to_a_folder_and_the_upload_folder_setting(app, client, tmp_path):
    @app.post("/elsewhere")
    def elsewhere():
        return {"saved": [s.path for s in app.extensions["dropzone"].save(str(tmp_path / "given"))]}

    app.config["DROPZONE_UPLOAD_FOLDER"] = str(tmp_path / "configured")
    post(client, "/save", [("file", "a.txt", b"a")])
    assert os.listdir(tmp_path / "configured") == ["a.txt"]

    assert post(client, "/elsewhere", [("file", "b.txt", b"b")]).json == {
        "saved": [str(tmp_path / "given" / "b.txt")]
    }


def test_refusals_are_plain_text_and_store_nothing(client, app):
    cases = [
        ("/save?allowed_file_type=image", "page.png", b"<html><script>x</script>", 415),
        ("/save?max_file_size=0.001", "big.txt", b"x" * 2000, 413),
        ("/save?max_files=1", None, None, 400),
    ]
    for url, name, content, status in cases:
        files = (
            [("file", name, content)]
            if name
            else [("file[0]", "a.txt", b"a"), ("file[1]", "b.txt", b"b")]
        )
        response = post(client, url, files)
        assert response.status_code == status
        assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "You can't upload any more files (at most 1)."
    assert not os.path.exists(upload_folder(app)) or os.listdir(upload_folder(app)) == []


def test_a_view_can_reword_a_refusal(app, client):
    from flask_dropzone import UploadRefused

    @app.post("/reworded")
    def reworded():
        try:
            app.extensions["dropzone"].save(allowed_file_type="image")
        except UploadRefused as refused:
            return f"Pictures only ({refused.code})", refused.code
        return ""

    response = post(client, "/reworded", [("file", "a.txt", b"a")])
    assert (response.status_code, response.get_data(as_text=True)) == (415, "Pictures only (415)")


def test_oversized_request_is_refused_from_its_headers(client):
    class Unreadable(io.RawIOBase):
        def tell(self):
            return 0

        def seek(self, offset, whence=0):
            return 0

        def readinto(self, buffer):
            raise AssertionError("the body was read")

    response = client.post(
        "/save?max_files=1&max_file_size=1",
        input_stream=Unreadable(),
        environ_overrides={"CONTENT_LENGTH": str(50 * 1024 * 1024)},
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 413
    assert response.get_data(as_text=True).startswith("File is too big (50 MiB).")


def test_max_content_length_is_plain_text_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = post(client, "/save", [("file", "a.txt", b"x" * 5000)])
    assert response.status_code == 413 and response.mimetype == "text/plain"


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"--" + b"B" * 10 + b"\r\nno headers here", "multipart/form-data; boundary=BBBBBBBBBB"),
        (b"garbage", "multipart/form-data"),
        (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_malformed_bodies_are_400(client, body, content_type):
    response = client.post("/save", data=body, content_type=content_type)
    assert response.status_code == 400 and response.mimetype == "text/plain"


def test_a_boundary_over_70_characters_is_a_malformed_body(client, app):
    def upload(boundary):
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
            f"abc\r\n--{boundary}--\r\n"
        ).encode()
        return client.post(
            "/save", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    response = upload("b" * 71)  # RFC 2046: 1 to 70 characters
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "boundary" in response.get_data(as_text=True)
    assert not os.path.isdir(upload_folder(app))
    assert upload("b" * 70).json["saved"][0][1] == "a.txt"
    # Werkzeug's test client writes up to 75 characters (1 request in 400 over 70): read.
    werkzeugs = "---------------WerkzeugFormPart_1764640000.123456780.0123456789012345678"
    assert len(werkzeugs) == 72 and upload(werkzeugs).json["saved"][0][1] == "a (1).txt"


BROKEN_HEADERS = [
    b'Content-Disposition: form-data; name="file"; filename="a\nb.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a\rb.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\rX',
    b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\nX-Note: a\x00b',
]


@pytest.mark.parametrize("header", BROKEN_HEADERS)
def test_a_line_break_or_nul_in_a_part_header_is_a_malformed_body(app, client, header):
    """400 for an upload view; another multipart route of the app reads an empty form, as
    for any malformed body (not a 500 for every route)."""

    @app.post("/other")
    def other():
        return {"form": dict(request.form), "files": list(request.files)}

    body = (
        b"--b\r\n"
        + header
        + b'\r\n\r\nabc\r\n--b\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--b--\r\n'
    )
    response = client.post("/save", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "not valid multipart/form-data" in response.get_data(as_text=True)
    assert not os.path.isdir(upload_folder(app)) or os.listdir(upload_folder(app)) == []
    response = client.post("/other", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 200 and response.json == {"form": {}, "files": []}


def test_large_upload_streams_to_disk_without_buffering(app, client):
    peaks = {}

    @app.post("/measured")
    def measured():
        tracemalloc.start()
        try:
            saved = app.extensions["dropzone"].save(max_file_size=64)
            peaks["peak"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return {"size": saved[0].size}

    content = os.urandom(32 * 1024 * 1024)
    assert post(client, "/measured", [("file", "big.bin", content)]).json == {"size": len(content)}
    assert peaks["peak"] < 8 * 1024 * 1024  # a few read buffers, not the file
    with open(os.path.join(upload_folder(app), "big.bin"), "rb") as stored:
        assert stored.read() == content


def test_files_are_written_once_whoever_reads_the_form_first(app, client, monkeypatch):
    @app.post("/parsed-first")
    def parsed_first():
        request.form  # noqa: B018  (what Flask-WTF's CSRFProtect does before the view)
        return {"saved": [s.size for s in app.extensions["dropzone"].save()]}

    copies = []
    original = storage.DiskFiles.copy_into
    monkeypatch.setattr(
        storage.DiskFiles, "copy_into", lambda *args: copies.append(1) or original(*args)
    )
    post(client, "/save", [("file", "a.bin", os.urandom(700_000))])
    assert copies == []  # parsed straight into the upload folder, then linked

    assert post(client, "/parsed-first", [("file", "b.bin", b"b" * 700_000)]).json == {
        "saved": [700_000]
    }
    assert copies == []  # the form read first (CSRFProtect) went through the same reader


def test_files_then_save_in_one_request(app, client):
    @app.post("/both")
    def both():
        names = [f.filename for f in app.extensions["dropzone"].files()]
        saved = [s.stored_name for s in app.extensions["dropzone"].save()]
        return {"names": names, "saved": saved}

    assert post(client, "/both", [("file", "a.txt", b"a")]).json == {
        "names": ["a.txt"],
        "saved": ["a.txt"],
    }


def test_upload_save_links_and_a_second_save_copies(tmp_path):
    files = storage.DiskFiles()
    temp = files.stage(str(tmp_path))
    temp.write(b"data")
    upload = Upload(
        temp.open(), "a.txt", "file", FileStorage().headers, 4, b"data", store=files, staged=temp
    )
    upload.save(str(tmp_path / "first.txt"))
    upload.save(str(tmp_path / "second.txt"))
    first, second = os.stat(tmp_path / "first.txt"), os.stat(tmp_path / "second.txt")
    assert first.st_ino != second.st_ino  # a copy, not another name of the same file
    assert (tmp_path / "second.txt").read_bytes() == b"data"
    upload.close()
    assert sorted(os.listdir(tmp_path)) == ["first.txt", "second.txt"]


def test_seed_loop_keeps_working(app, client, tmp_path):
    @app.post("/seed")
    def seed():
        for key, f in request.files.items():
            if key.startswith("file"):
                f.save(os.path.join(str(tmp_path), f.filename))
        return ""

    post(client, "/seed", [("file[0]", "a.txt", b"a"), ("file[1]", "b.txt", b"b")])
    assert (tmp_path / "a.txt").read_bytes() == b"a" and (tmp_path / "b.txt").read_bytes() == b"b"


def _publish_many(folder: str, worker: int, count: int) -> None:
    for index in range(count):
        files = storage.DiskFiles()
        temp = files.stage(folder)
        temp.write(f"{worker}:{index}".encode() * 1000)
        files.publish(temp, folder, "same.txt", temp.size)
        temp.close()


def test_concurrent_processes_never_overwrite_each_other(tmp_path):
    folder = str(tmp_path)
    workers = [
        multiprocessing.Process(target=_publish_many, args=(folder, w, 25)) for w in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    contents = sorted((tmp_path / name).read_bytes() for name in os.listdir(folder))
    assert contents == sorted(f"{w}:{i}".encode() * 1000 for w in range(4) for i in range(25))


def test_saved_file_fields():
    saved = SavedFile("a b.png", "a b.png", "/x/a b.png", 3, "image/png")
    assert (saved.filename, saved.stored_name, saved.size, saved.mimetype) == (
        "a b.png",
        "a b.png",
        3,
        "image/png",
    )


BOUNDARY = "testboundary1234"


def multipart(parts) -> bytes:
    body = b""
    for name, filename, content in parts:
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


# The name judged is the name stored, on all three receiving paths ------------------------

SCRIPTED_PNG = PNG + b"<script>alert(document.cookie)</script>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


def _receive_by(path: str, client, name: str, content: bytes, rules: dict):
    """Send one file by the streamed, chunked or already-parsed path; return the status."""
    from urllib.parse import urlencode

    from support.chunking import chunk_requests, send

    query = "?" + urlencode(rules)
    if path == "chunked":
        statuses = [
            send(client, chunk, "/save" + query + "&chunking=true&chunk_size=1024").status_code
            for chunk in chunk_requests(content, name, 1024)
        ]
        return (
            statuses[-1]
            if all(s == 200 for s in statuses)
            else next(s for s in statuses if s != 200)
        )
    url = "/save" if path == "streamed" else "/parsed-first"
    return post(client, url + query, [("file", name, content)]).status_code


@pytest.fixture
def three_paths_app(app):
    @app.post("/parsed-first")
    def parsed_first():
        request.form  # noqa: B018  (what Flask-WTF's CSRFProtect does before the view)
        saved = app.extensions["dropzone"].save(**request.args)
        return {"saved": [[s.filename, s.stored_name, s.size, s.mimetype] for s in saved]}

    return app


@pytest.mark.parametrize("path", ["streamed", "chunked", "parsed-first"])
@pytest.mark.parametrize(
    "name, content, rules",
    [
        ("x.html.", SCRIPTED_PNG, {"allowed_file_type": "image"}),  # stored as x.html
        ("x.html ", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("x.html\u200b", SCRIPTED_PNG, {"allowed_file_type": "image"}),  # a format character
        ("x.html. . ", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("x.svg ", SVG, {"allowed_file_type": "app"}),  # stored as x.svg, not an application/*
        ("shell.png.php", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("shell.phtml", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("page.xhtml", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("ssi.shtml", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("run.hta", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("no-extension", SCRIPTED_PNG, {"allowed_file_type": "image"}),
        ("evil.png", b"<html><script>alert(1)</script></html>", {"allowed_file_type": "image"}),
    ],
)
def test_names_that_are_not_allowed_are_refused_on_every_path(
    three_paths_app, path, name, content, rules
):
    client = three_paths_app.test_client()
    assert _receive_by(path, client, name, content, rules) == 415
    assert (
        not os.path.exists(upload_folder(three_paths_app))
        or os.listdir(upload_folder(three_paths_app)) == []
    )


@pytest.mark.parametrize("path", ["streamed", "chunked", "parsed-first"])
def test_an_allowed_file_is_stored_under_the_name_it_was_judged_by(three_paths_app, path):
    client = three_paths_app.test_client()
    assert (
        _receive_by(path, client, "holiday.png. ", SCRIPTED_PNG, {"allowed_file_type": "image"})
        == 200
    )
    assert os.listdir(upload_folder(three_paths_app)) == ["holiday.png"]


# Stored names: DROPZONE_STORED_NAME ------------------------------------------------------


def test_the_original_name_is_the_default(client, app):
    assert (
        post(client, "/save", [("file", "Jane Doe passport.PNG", PNG)]).json["saved"][0][1]
        == "Jane Doe passport.PNG"
    )


def test_random_names_keep_the_lower_cased_extension(client, app):
    stored = {
        post(client, "/save?stored_name=random", [("file", "Jane Doe passport.PNG", PNG)]).json[
            "saved"
        ][0][1]
        for _ in range(3)
    }
    assert len(stored) == 3
    for name in stored:
        assert re.fullmatch(r"[0-9a-f]{32}\.png", name)
    app.config["DROPZONE_STORED_NAME"] = "random"
    assert re.fullmatch(
        r"[0-9a-f]{32}", post(client, "/save", [("file", "README", b"r")]).json["saved"][0][1]
    )


@pytest.mark.parametrize(
    "returned, stored",
    [
        ("photo-{size}.png", f"photo-{len(PNG)}.png"),  # the function sees the file
        ("../../etc/passwd", "passwd"),
        ("/absolute/path/x.png", "x.png"),
        ("..\\..\\win.ini", "win.ini"),
        ("", "file"),
        ("..", "file"),
        ("CON.png", "_CON.png"),
        ("a\x00b.png", "ab.png"),
        ("x" * 400 + ".png", "x" * 236 + ".png"),
    ],
)
def test_a_naming_function_is_made_safe_and_kept_in_the_folder(
    tmp_path, returned, stored, make_app
):
    app = make_app(DROPZONE_STORED_NAME=lambda file: returned.format(size=file.size))
    dropzone = app.extensions["dropzone"]

    @app.post("/save")
    def save():
        return {"saved": [s.stored_name for s in dropzone.save()]}

    assert post(app.test_client(), "/save", [("file", "orig.png", PNG)]).json == {"saved": [stored]}
    assert os.listdir(os.path.join(app.instance_path, "uploads")) == [stored]
    assert not os.path.exists(tmp_path / "etc") and not os.path.exists("/absolute")


def test_a_naming_function_never_overwrites(make_app):
    app = make_app()
    dropzone = app.extensions["dropzone"]

    @app.post("/save")
    def save():
        return {
            "saved": [s.stored_name for s in dropzone.save(stored_name=lambda file: "same.bin")]
        }

    client = app.test_client()
    names = [
        post(client, "/save", [("file", f"{n}.bin", bytes([n]))]).json["saved"][0] for n in range(3)
    ]
    assert names == ["same.bin", "same (1).bin", "same (2).bin"]


def test_a_naming_function_must_return_text(make_app):
    app = make_app(TESTING=True)
    dropzone = app.extensions["dropzone"]

    @app.post("/save")
    def save():
        return {"saved": len(dropzone.save(stored_name=lambda file: None))}

    with pytest.raises(TypeError, match="must return a str"):
        post(app.test_client(), "/save", [("file", "a.bin", b"a")])


def test_an_unknown_naming_policy_fails_at_start_up(make_app):
    from flask_dropzone import SettingError

    with pytest.raises(
        SettingError, match="DROPZONE_STORED_NAME must be 'original', 'random' or a function"
    ):
        make_app(DROPZONE_STORED_NAME="uuid")


# Several files in one request: one outcome per file --------------------------------------

HTML_AS_PNG = b"<!doctype html><script>alert(1)</script>"


def test_a_batch_stores_its_good_files_and_says_which_was_refused(client, app):
    files = [
        ("file[0]", "a.png", PNG),
        ("file[1]", "evil.png", HTML_AS_PNG),
        ("file[2]", "c.png", PNG),
    ]
    response = post(client, "/save?allowed_file_type=image&upload_multiple=true", files)
    assert response.status_code == 415 and response.mimetype == "application/json"
    assert response.json == {
        "error": "Its name says PNG, but its content is not.",
        "files": [
            {"filename": "a.png", "stored_name": "a.png"},
            {
                "filename": "evil.png",
                "status": 415,
                "error": "Its name says PNG, but its content is not.",
            },
            {"filename": "c.png", "stored_name": "c.png"},
        ],
    }
    assert sorted(os.listdir(upload_folder(app))) == ["a.png", "c.png"]


def test_answer_says_what_was_stored_as_a_refusal_of_some_files_says_it(client):
    def entry(filename, stored_name):
        return {"filename": filename, "stored_name": stored_name}

    files = [("file[0]", "../a b.png", PNG), ("file[1]", "a b.png", PNG)]
    stored = [entry("../a b.png", "a b.png"), entry("a b.png", "a b (1).png")]
    assert post(client, "/answer?upload_multiple=true", files).json == {"stored": stored}
    again = post(client, "/answer", files[:1])
    assert again.json == {"stored": [entry("../a b.png", "a b (2).png")]}
    assert post(client, "/answer", []).json == {"stored": []}
    evil = ("file[2]", "evil.png", HTML_AS_PNG)
    refused = post(client, "/answer?upload_multiple=true&allowed_file_type=image", [*files, evil])
    assert refused.json["files"][:2] == [
        entry("../a b.png", "a b (3).png"),
        entry("a b.png", "a b (4).png"),
    ]


def test_a_file_too_large_in_a_batch_is_refused_alone_while_the_others_arrive(client, app):
    big = os.urandom(2 * 1024 * 1024)
    files = [("file[0]", "a.bin", b"a"), ("file[1]", "big.bin", big), ("file[2]", "c.bin", b"c")]
    response = post(client, "/save?max_file_size=1&upload_multiple=true", files)
    assert response.status_code == 413
    assert [entry.get("status") for entry in response.json["files"]] == [None, 413, None]
    assert (
        response.json["files"][1]["error"] == "File is too big (2 MiB). Max filesize: 1 MiB."
    )  # its whole size
    assert sorted(os.listdir(upload_folder(app))) == ["a.bin", "c.bin"]


def test_a_single_file_refused_while_it_arrives_is_told_its_whole_size(client):
    response = post(
        client,
        "/save?max_file_size=1",
        [("file", "big.bin", os.urandom(5 * 1024 * 1024 + 300_000))],
    )
    assert response.get_data(as_text=True) == "File is too big (5.29 MiB). Max filesize: 1 MiB."


def test_different_refusals_in_a_batch_answer_400_with_each_message(client, app):
    files = [
        ("file[0]", "a.png", PNG + b"x" * 2_000_000),
        ("file[1]", "b.png", HTML_AS_PNG),
        ("file[2]", "c.png", PNG),
    ]
    response = post(
        client, "/save?allowed_file_type=image&max_file_size=1&upload_multiple=true", files
    )
    assert response.status_code == 400
    assert response.json["error"] == "2 of 3 files were refused."
    assert [entry.get("status") for entry in response.json["files"]] == [413, 415, None]


def test_in_a_form_a_refused_file_refuses_the_submission(client, app):
    files = [("file[0]", "a.png", PNG), ("file[1]", "evil.png", HTML_AS_PNG)]
    response = post(
        client, "/save?allowed_file_type=image&in_form=true&upload_multiple=true", files
    )
    assert response.status_code == 415 and response.mimetype == "text/plain"
    assert not os.path.exists(upload_folder(app)) or os.listdir(upload_folder(app)) == []


def test_a_view_can_say_which_file_was_wrong(app, client):
    from flask_dropzone import SomeFilesRefused, UploadRefused

    seen = []

    @app.post("/album")
    def album():
        try:
            app.extensions["dropzone"].save(allowed_file_type="image", in_form=True)
        except UploadRefused as refused:  # in a form: the file that made the submission fail
            seen.append((refused.filename, refused.code))
        try:
            app.extensions[
                "dropzone"
            ].save()  # the same refusal again: the body was not read further
        except UploadRefused as refused:
            seen.append((refused.filename, refused.code))
        return ""

    @app.post("/batch")
    def batch():
        try:
            app.extensions["dropzone"].files(allowed_file_type="image", upload_multiple=True)
        except SomeFilesRefused as refused:  # several files: each one's outcome
            seen.append(
                (
                    [(r.filename, r.code) for r in refused.refusals],
                    [u.filename for u in refused.accepted],
                )
            )
        return ""

    files = [("file[0]", "a.png", PNG), ("file[1]", "evil.png", HTML_AS_PNG)]
    post(client, "/album", files)
    post(client, "/batch", files)
    assert seen == [("evil.png", 415), ("evil.png", 415), ([("evil.png", 415)], ["a.png"])]


@pytest.mark.parametrize(
    "url, files, expected",
    [
        ("/save?allowed_file_type=image", [("file", "a.txt", b"a")], ("a.txt", 415)),
        (
            "/save?max_file_size=0.001",
            [("file", "big.bin", b"x" * 5000)],
            ("big.bin", 413),
        ),  # while it arrives
        (
            "/save?max_file_size=0.0001",
            [("file", "small.bin", b"x" * 200)],
            ("small.bin", 413),
        ),  # once received
        (
            "/save?max_files=1",
            [("file[0]", "a.txt", b"a"), ("file[1]", "b.txt", b"b")],
            ("b.txt", 400),
        ),
    ],
)
def test_every_refusal_names_its_file(app, client, url, files, expected):
    from flask_dropzone import UploadRefused, upload_refused

    heard = []

    def refused(sender, filename, status, reason, **extra):
        heard.append((filename, status))

    with upload_refused.connected_to(refused, app):
        post(client, url, files)
    assert heard == [expected]
    assert UploadRefused("x").filename is None  # a refusal of the request itself names no file

"""S3_DIRECT in Chromium: the page (one origin) PUTs the parts straight to the bucket (another
origin, SeaweedFS on its own port); the app only judges, presigns and completes."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
from flask import Flask, render_template_string

from support.browser import (
    IMAGES_REFUSED,
    NOT_A_PNG,
    drop_files,
    error_messages,
    png,
    statuses,
    wait_settled,
    wait_settled_long,
)

MIB = 1024 * 1024
PAGE = """<!doctype html><html lang="en"><head><title>direct</title>{{ dropzone.load_css() }}</head><body>
<main>{{ dropzone.create() }}</main>{{ dropzone.load_js() }}{{ dropzone.config(**rules) }}</body></html>"""
ZONE_PAGE = """<!doctype html><html lang="en"><head><title>direct</title>{{ dropzone.load_css() }}</head><body>
<main>{{ dropzone.create(id=name) }}</main>{{ dropzone.load_js() }}{{ dropzone.config(id=name) }}</body></html>"""


class BodyCounter:
    """WSGI middleware adding up the bytes of every request body the app receives."""

    def __init__(self, app) -> None:
        self.app = app
        self.total = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.total += int(environ.get("CONTENT_LENGTH") or 0)
        return self.app(environ, start_response)


@pytest.fixture
def direct_page(make_app):
    """``direct_page(settings, **rules)``: an app on S3 whose page at / shows a direct zone
    with ``rules``; and the counter of the bytes its requests sent it."""

    def make(settings: dict, **rules) -> tuple[Flask, BodyCounter]:
        app = make_app(
            **{
                "DROPZONE_S3_DIRECT": True,
                "DROPZONE_CHUNK_SIZE": 8 * MIB,
                "DROPZONE_PARALLEL_CHUNK_UPLOADS": True,
                "DROPZONE_PARALLEL_UPLOADS": 4,
                "DROPZONE_MAX_FILE_SIZE": 100,
                **settings,
            }
        )
        return with_direct_page(app, rules)

    return make


def with_direct_page(app: Flask, rules: dict) -> tuple[Flask, BodyCounter]:

    @app.get("/")
    def index():
        return render_template_string(PAGE, rules=rules)

    counter = BodyCounter(app.wsgi_app)
    app.wsgi_app = counter  # type: ignore[method-assign]
    return app, counter


def allow_the_page(app: Flask, origin: str) -> None:
    """The bucket's CORS rule for the page's origin, set by the extension's own command."""
    result = app.test_cli_runner().invoke(args=["dropzone", "s3-cors", "--origin", origin])
    assert result.exit_code == 0, result.output


def keys(client, bucket: str) -> list[str]:
    """The bucket's keys but the sweep's own bookkeeping (``_dropzone/``) and the claims of
    direct uploads that ended (kept until the sweep, so that a request sent again is 404)."""
    listed = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    ended = {
        key
        for key in listed
        if key.endswith(".claim")
        and client.head_object(Bucket=bucket, Key=key)["Metadata"].get("fdz-state") == "ended"
    }
    return sorted(
        key for key in listed if not key.startswith("uploads/_dropzone/") and key not in ended
    )


def test_a_64_mib_file_goes_to_the_bucket_in_parallel_parts_and_never_through_the_app(
    page, serve, tmp_path, s3_server, s3_bucket, s3_settings, direct_page
):
    from support.s3server import make_client

    app, counter = direct_page(s3_settings)
    server = serve(app)
    allow_the_page(app, server.url)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(64 * MIB))
    page.goto(server.url + "/")
    handle = page.evaluate_handle("document.getElementById('myDropzone').dropzone.hiddenFileInput")
    handle.as_element().set_input_files(str(source))
    page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 1")
    wait_settled_long(page)
    assert statuses(page, "myDropzone") == ["success"]
    client = make_client(s3_server)
    stored = client.get_object(Bucket=s3_bucket, Key="uploads/big.bin")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert keys(client, s3_bucket) == ["uploads/big.bin"]  # nothing left under the partial prefix
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert counter.total < 64 * 1024  # the app got the file's name and size, never its bytes


def test_refusals_before_and_after_the_bytes_are_in_the_bucket(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    from support.s3server import make_client

    app, counter = direct_page(s3_settings, allowed_file_type="image", max_file_size=1)
    server = serve(app)
    allow_the_page(app, server.url)
    page.goto(server.url + "/")
    # custom_options could turn the browser's checks off; the server's come first anyway
    page.evaluate(
        "() => { const dz = document.getElementById('myDropzone').dropzone;"
        " dz.options.maxFilesize = null; dz.options.acceptedFiles = null; }"
    )
    fake = b"<!doctype html><html><script>alert(1)</script></html>"
    drop_files(
        page,
        "myDropzone",
        [
            ("big.png", png(seed=1) + b"\0" * (2 * MIB)),
            ("notes.txt", b"text"),
            ("page.png", fake),
            ("fine.png", png(seed=2)),
        ],
    )
    wait_settled(page, "myDropzone", 4)
    assert statuses(page, "myDropzone") == ["error", "error", "error", "success"]
    assert error_messages(page, "myDropzone") == [
        "File is too big (2 MiB). Max filesize: 1 MiB.",  # before: the declared size
        IMAGES_REFUSED,  # before: the name
        NOT_A_PNG,  # after: the content, sniffed from the bucket
        "",
    ]
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/fine.png"]  # the fake picture was deleted
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert counter.total < 16 * 1024


def held_by_the_bucket(client, bucket: str, numbers: list[int]) -> None:
    """Wait (30 s at most) until the bucket holds parts ``numbers`` of the one open upload: the
    first part as an object of its own, the others in the multipart upload."""
    deadline = time.monotonic() + 30
    while True:
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        held = []
        if len(uploads) == 1:
            listed = client.list_parts(
                Bucket=bucket, Key=uploads[0]["Key"], UploadId=uploads[0]["UploadId"]
            )
            held = sorted({part["PartNumber"] for part in listed.get("Parts", [])})
            objects = client.list_objects_v2(Bucket=bucket, Prefix="uploads/.dropzone-direct/").get(
                "Contents", []
            )
            held = [1] * any("." not in item["Key"].rsplit("/", 1)[1] for item in objects) + held
        if held == numbers:
            return
        assert time.monotonic() < deadline, f"the bucket holds parts {held}"
        time.sleep(0.2)


def test_a_direct_upload_cut_short_resumes_with_the_parts_the_bucket_lacks(
    page, serve, tmp_path, s3_server, s3_bucket, s3_settings, direct_page
):
    from support.s3server import make_client

    app, _ = direct_page(
        {**s3_settings, "DROPZONE_CHUNK_SIZE": 5 * MIB, "DROPZONE_RETRY_CHUNKS": False}
    )
    server = serve(app)
    allow_the_page(app, server.url)
    source = tmp_path / "film.bin"
    source.write_bytes(os.urandom(15 * MIB + 1))  # 4 parts: 5, 5, 5 MiB and a byte

    def lost(route):
        if route.request.method == "PUT" and "partNumber=3" in route.request.url:
            route.abort()
        else:
            route.continue_()

    page.route("**/uploads/**", lost)
    page.goto(server.url + "/")

    def choose():
        picker = page.evaluate_handle(
            "document.getElementById('myDropzone').dropzone.hiddenFileInput"
        )
        picker.as_element().set_input_files(str(source))

    choose()
    wait_settled_long(page)
    assert statuses(page, "myDropzone") == ["error"]  # part 3 never arrived
    client = make_client(s3_server)
    held_by_the_bucket(client, s3_bucket, [1, 2, 4])  # the other parts did (their requests ran on)
    page.unroute("**/uploads/**")
    page.goto(server.url + "/")  # later, on the page again: the same file
    puts = []
    page.on(
        "request", lambda request: puts.append(request.url) if request.method == "PUT" else None
    )
    choose()
    page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 1")
    wait_settled_long(page)
    assert statuses(page, "myDropzone") == ["success"]
    assert [url for url in puts if "partNumber=3" in url] and len(
        puts
    ) == 1  # only the missing part
    stored = client.get_object(Bucket=s3_bucket, Key="uploads/film.bin")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_a_direct_upload_removed_by_its_person_is_deleted_from_the_bucket(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    from support.s3server import make_client

    app, _ = direct_page(s3_settings, delete_on_remove=True)
    server = serve(app)
    allow_the_page(app, server.url)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("a.png", png(seed=1)), ("b.png", png(seed=2))])
    wait_settled(page, "myDropzone", 2)
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/a.png", "uploads/b.png"]
    with page.expect_response("**/dropzone/delete") as deleted:
        page.click("#myDropzone .dz-preview:has-text('a.png') [data-dz-remove]")
    assert deleted.value.status == 204 or deleted.value.ok
    assert keys(client, s3_bucket) == ["uploads/b.png"]


def test_an_empty_file_goes_direct_too(page, serve, s3_server, s3_bucket, s3_settings, direct_page):
    from support.s3server import make_client

    app, _ = direct_page(s3_settings)
    server = serve(app)
    allow_the_page(app, server.url)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("empty.txt", b""), ("a.txt", b"a")])
    wait_settled(page, "myDropzone", 2)
    assert statuses(page, "myDropzone") == ["success", "success"]
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/a.txt", "uploads/empty.txt"]
    assert client.get_object(Bucket=s3_bucket, Key="uploads/empty.txt")["Body"].read() == b""


def test_a_file_started_in_one_zone_is_never_resumed_into_another(
    page, serve, tmp_path, s3_server, s3_bucket, s3_settings, direct_page
):
    """Resumes are remembered by zone: the same file added in another zone of the origin
    starts an upload of its own there, under that zone's rules and folder."""
    from support.s3server import make_client

    zones = {"public": {"upload_folder": "public"}, "private": {"upload_folder": "private"}}
    app, _ = direct_page(
        {
            **s3_settings,
            "DROPZONE_CHUNK_SIZE": 5 * MIB,
            "DROPZONE_RETRY_CHUNKS": False,
            "DROPZONE_ZONES": zones,
        }
    )

    @app.get("/zone/<name>")
    def zone_page(name):
        return render_template_string(ZONE_PAGE, name=name)

    server = serve(app)
    allow_the_page(app, server.url)
    source = tmp_path / "film.bin"
    source.write_bytes(os.urandom(15 * MIB + 1))

    def lost(route):
        if route.request.method == "PUT" and "partNumber=3" in route.request.url:
            route.abort()
        else:
            route.continue_()

    page.route("**/uploads/**", lost)
    page.goto(server.url + "/zone/public")

    def choose(zone):
        picker = page.evaluate_handle(f"document.getElementById('{zone}').dropzone.hiddenFileInput")
        picker.as_element().set_input_files(str(source))

    choose("public")
    wait_settled_long(page, "public")
    assert statuses(page, "public") == ["error"]
    client = make_client(s3_server)
    held_by_the_bucket(client, s3_bucket, [1, 2, 4])
    page.unroute("**/uploads/**")
    page.goto(server.url + "/zone/private")
    puts, asked = [], []
    page.on(
        "request", lambda request: puts.append(request.url) if request.method == "PUT" else None
    )
    page.on(
        "request",
        lambda request: asked.append(request.url) if "/direct/status" in request.url else None,
    )
    choose("private")
    page.wait_for_function("document.getElementById('private').dropzone.files.length === 1")
    wait_settled_long(page, "private")
    assert statuses(page, "private") == ["success"]
    assert asked == []  # the page did not take the public zone's upload for this zone's
    assert len(puts) == 4  # every part: an upload of its own
    stored = client.get_object(Bucket=s3_bucket, Key="uploads/private/film.bin")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(source.read_bytes()).digest()
    named = [key for key in keys(client, s3_bucket) if "/.dropzone-direct/" not in key]
    assert named == ["uploads/private/film.bin", "uploads/public/film.bin"]
    assert (
        client.head_object(Bucket=s3_bucket, Key="uploads/public/film.bin")["ContentLength"] == 0
    )  # still held
    (left,) = client.list_multipart_uploads(Bucket=s3_bucket)[
        "Uploads"
    ]  # public's, for its own zone to resume
    assert left["Key"] == "uploads/public/film.bin"


def test_a_page_open_longer_than_its_rules_renews_them_and_says_so_when_it_cannot(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    from support.s3server import make_client

    app, _ = direct_page({**s3_settings, "DROPZONE_CHUNK_EXPIRES": 4})
    server = serve(app)
    allow_the_page(app, server.url)
    page.goto(server.url + "/")
    page.wait_for_timeout(6000)  # the rules made with the page are 6 s old: renewed every 2 s
    drop_files(page, "myDropzone", [("a.txt", b"renewed")])
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["success"]
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/a.txt"]

    page.route(
        "**/dropzone/rules", lambda route: route.abort()
    )  # asleep, or offline, past their end
    page.goto(server.url + "/")
    page.wait_for_timeout(6000)
    drop_files(page, "myDropzone", [("b.txt", b"too late")])
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["error"]
    assert error_messages(page, "myDropzone") == [
        "This page's upload settings have expired; reload the page."
    ]
    assert keys(client, s3_bucket) == ["uploads/a.txt"]


@pytest.mark.parametrize("chunking", [False, True])
def test_a_direct_upload_cancelled_by_its_person_is_aborted_at_once(
    page, serve, s3_server, s3_bucket, s3_settings, chunking, direct_page
):
    """Dropzone says "Upload canceled" (an error) before "canceled" and before it removes the
    file: the upload is aborted all the same, through its own endpoint."""
    from support.s3server import make_client

    app, _ = direct_page(
        {**s3_settings, "DROPZONE_CHUNK_SIZE": 5 * MIB, "DROPZONE_CHUNKING": chunking},
        add_remove_links=True,
    )
    server = serve(app)
    allow_the_page(app, server.url)
    held, asked = [], []
    page.route(
        "**/uploads/**",
        lambda route: held.append(route) if route.request.method == "PUT" else route.continue_(),
    )
    page.on(
        "request", lambda request: asked.append(request.url.split("?")[0].replace(server.url, ""))
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the cancel confirmation
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("big.bin", os.urandom(12 * MIB))])
    page.wait_for_function(
        "document.getElementById('myDropzone').dropzone.getUploadingFiles().length === 1"
    )
    page.wait_for_function("document.querySelector('#myDropzone [data-dz-remove]') !== null")
    page.evaluate(
        """() => new Promise(resolve => {
             const zone = document.getElementById('myDropzone');
             zone.addEventListener('dropzone:cancelled', () => resolve(), { once: true });
             zone.querySelector('[data-dz-remove]').click();
           })"""
    )
    for route in held:
        route.abort()
    assert "/dropzone/direct/abort" in asked and "/dropzone/cancel" not in asked
    client = make_client(s3_server)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert keys(client, s3_bucket) == []  # no held name, no first part, no quota marker left


def test_an_in_form_zone_on_a_direct_upload_app_sends_its_files_with_the_form(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    from flask import request

    from support.s3server import make_client

    app, _ = direct_page(s3_settings)
    dropzone = app.extensions["dropzone"]

    @app.route("/album", methods=["GET", "POST"])
    def album():
        if request.method == "POST" and request.form.get("title"):
            return {"stored": [saved.stored_name for saved in dropzone.save(in_form=True)]}
        return render_template_string(
            """<!doctype html><html lang="en"><head><title>album</title>{{ dropzone.load_css() }}</head><body>
            <form method="post" action="/album"><input name="title" id="title">
            {{ dropzone.create(id='album', in_form=True) }}<button id="send">Post</button></form>
            {{ dropzone.load_js() }}{{ dropzone.config(id='album', in_form=True) }}</body></html>"""
        )

    server = serve(app)
    allow_the_page(app, server.url)
    asked = []
    page.on("request", lambda req: asked.append(req.url))
    page.goto(server.url + "/album")
    for attempt in range(2):  # the first submission comes back (no title), the files with it
        drop_files(page, "album", [("sunset.png", png(seed=5))])
        page.wait_for_function("document.getElementById('album').dropzone.files.length === 1")
        if attempt:
            page.fill("#title", "Holiday")
        with page.expect_navigation():
            page.click("#send")
    assert page.evaluate("document.body.textContent").strip() == '{"stored":["sunset.png"]}'
    assert not [url for url in asked if "/dropzone/direct/" in url]
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/sunset.png"]
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_success_gets_the_apps_answer_in_direct_mode_too(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    app, _ = direct_page(s3_settings)
    server = serve(app)
    allow_the_page(app, server.url)
    page.add_init_script("""document.addEventListener('dropzone:init', (event) => {
      window.answers = [];
      event.detail.dropzone.on('success', (file, answer) => window.answers.push(answer));
    });""")
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("a.txt", b"a")])
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["success"]
    assert page.evaluate("window.answers") == [
        {"stored": [{"filename": "a.txt", "stored_name": "a.txt"}]}
    ]


def test_one_page_has_a_direct_zone_and_a_zone_through_the_app(
    page, serve, s3_server, s3_bucket, s3_settings, direct_page
):
    """S3_DIRECT is a zone's setting too: in an app that sends files through its views, one
    zone sends its files straight to the bucket, and the other still posts to its view."""
    from support.s3server import make_client

    zones = {
        "direct": {"s3_direct": True, "upload_folder": "direct"},
        "posted": {"upload_folder": "posted"},
    }
    app, counter = direct_page(
        {**s3_settings, "DROPZONE_S3_DIRECT": False, "DROPZONE_ZONES": zones}
    )
    dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save(zone="posted")]}

    @app.get("/both")
    def both():
        return render_template_string(
            """<!doctype html><html lang="en"><head><title>both</title>{{ dropzone.load_css() }}
            </head><body><main>{{ dropzone.create(id='direct') }}
            {{ dropzone.create(action='upload', id='posted') }}</main>{{ dropzone.load_js() }}
            {{ dropzone.config(id='direct') }}{{ dropzone.config(id='posted') }}</body></html>"""
        )

    server = serve(app)
    allow_the_page(app, server.url)
    asked = []
    page.on("request", lambda request: asked.append((request.method, request.url.split("?")[0])))
    page.goto(server.url + "/both")
    big = os.urandom(2 * MIB)
    drop_files(page, "direct", [("film.bin", big)])
    drop_files(page, "posted", [("note.txt", b"through the app")])
    wait_settled(page, "direct", 1)
    wait_settled(page, "posted", 1)
    assert statuses(page, "direct") == ["success"] and statuses(page, "posted") == ["success"]
    client = make_client(s3_server)
    assert keys(client, s3_bucket) == ["uploads/direct/film.bin", "uploads/posted/note.txt"]
    assert client.get_object(Bucket=s3_bucket, Key="uploads/direct/film.bin")["Body"].read() == big
    assert ("POST", server.url + "/upload") in asked  # the posted zone's file went to its view
    assert [url for method, url in asked if method == "PUT"]  # the direct zone's, to the bucket
    assert counter.total < 64 * 1024  # the app never got the direct file's bytes

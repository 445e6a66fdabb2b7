"""Every demo page, used as a user would, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

from support.browser import (
    DOCUMENTS_REFUSED,
    IMAGES_REFUSED,
    NOT_A_PNG,
    choose_files,
    drop_files,
    error_messages,
    payload,
    png,
    statuses,
    violations,
    wait_settled,
)


def stored(app) -> dict[str, bytes]:
    folder = Path(app.instance_path) / "uploads"
    if not folder.exists():
        return {}
    # files: the folder of their thumbnails (.dropzone-variants) is none
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def test_basic_files_arrive_byte_for_byte(page, demo, demo_app):
    files = [
        ("photo.png", png(seed=1)),
        ("data.bin", payload(300_000, 2)),
        ("notes.txt", b"hello\n"),
    ]
    page.goto(demo.url + "/basic")
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 3)
    assert statuses(page, "myDropzone") == ["success"] * 3
    assert stored(demo_app) == dict(files)
    # The thumbnail of the picture was drawn (needs img-src data: under a CSP).
    assert page.get_attribute(".dz-preview img", "src").startswith("data:image/")


def test_files_chosen_in_the_dialog_arrive(page, demo, demo_app):
    files = [("中文 report.txt", "Unicode name\n".encode()), ("archive", payload(5000, 3))]
    page.goto(demo.url + "/basic")
    choose_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 2)
    assert stored(demo_app) == dict(files)  # no extension, and non-ASCII names, are accepted


def test_parallel_uploads_send_several_files_per_request(page, demo, demo_app):
    requests = []
    page.on(
        "request", lambda request: requests.append(request) if request.method == "POST" else None
    )
    files = [(f"p{index}.png", png(seed=index)) for index in range(7)]
    page.goto(demo.url + "/parallel")
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 7)
    assert statuses(page, "myDropzone") == ["success"] * 7
    assert stored(demo_app) == dict(files)
    assert len(requests) == 3  # 3 + 3 + 1 files


def test_click_upload_sends_the_whole_queue_of_its_own_zone(page, demo, demo_app):
    photos = [(f"photo{index}.png", png(seed=index)) for index in range(5)]
    scans = [("scan.png", png(seed=99))]
    page.goto(demo.url + "/click-upload")
    drop_files(page, "photos", photos)
    drop_files(page, "scans", scans)
    page.wait_for_function(
        "document.getElementById('photos').dropzone.getQueuedFiles().length === 5"
    )
    page.wait_for_timeout(300)
    assert stored(demo_app) == {}  # nothing leaves before the click
    page.click("#upload-photos")
    wait_settled(page, "photos", 5)
    assert statuses(page, "photos") == ["success"] * 5  # all five, not parallelUploads (2)
    assert statuses(page, "scans") == ["queued"]
    assert stored(demo_app) == dict(photos)
    page.click("#upload-scans")
    wait_settled(page, "scans", 1)
    assert stored(demo_app) == dict(photos + scans)


def test_in_form_sends_fields_and_files_in_one_request_and_follows_the_redirect(
    page, demo, demo_app
):
    posts = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    pictures = [("cat.png", png(seed=5)), ("dog.png", png(seed=6))]
    page.goto(demo.url + "/in-form")
    page.fill("#title", "Holiday")
    page.fill("#description", "Two pets")
    drop_files(page, "album", pictures)
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 2"
    )
    with page.expect_navigation():
        page.click("#submit")
    assert "/album" in page.url
    assert page.text_content("#album-title") == "Holiday"
    assert page.locator("#album-files li").all_text_contents() == ["cat.png", "dog.png"]
    assert stored(demo_app) == dict(pictures)
    assert len(posts) == 1


def test_in_form_shows_the_form_again_with_its_errors(page, demo, demo_app):
    page.goto(demo.url + "/in-form")
    page.fill("#description", "No title")
    drop_files(page, "album", [("cat.png", png(seed=5))])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 1"
    )
    with page.expect_navigation():
        page.click("#submit")
    assert page.text_content("#title-error") == "Give the album a title."
    assert page.input_value("#description") == "No title"
    assert stored(demo_app) == {}


def test_in_form_shows_the_servers_refusal_in_the_form(page, demo, demo_app):
    page.goto(demo.url + "/in-form")
    page.fill("#title", "Fake")
    drop_files(page, "album", [("fake.png", b"<html><script>alert(1)</script></html>")])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 1"
    )
    with page.expect_navigation():
        page.click("#submit")
    assert page.text_content("#files-error") == NOT_A_PNG
    assert stored(demo_app) == {}


def test_csrf_token_is_sent_and_a_missing_one_is_explained_under_the_thumbnail(
    page, demo, demo_app
):
    page.goto(demo.url + "/csrf")
    drop_files(page, "with-token", [("ok.png", png(seed=1))])
    drop_files(page, "without-token", [("forged.png", png(seed=2))])
    wait_settled(page, "with-token", 1)
    wait_settled(page, "without-token", 1)
    assert statuses(page, "with-token") == ["success"]
    assert error_messages(page, "without-token") == ["The CSRF token is missing."]
    assert list(stored(demo_app)) == ["ok.png"]


def test_strict_csp_page_works_with_no_violation(page, demo, demo_app):
    page.goto(demo.url + "/strict-csp")
    assert "script-src" not in page.text_content("#policy")  # default-src 'self' governs scripts
    drop_files(page, "myDropzone", [("a.png", png(seed=3)), ("b.txt", b"text")])
    wait_settled(page, "myDropzone", 2)
    assert statuses(page, "myDropzone") == ["success", "success"]
    page.wait_for_function("document.querySelector('.dz-preview img').src.startsWith('data:')")
    assert violations(page) == []
    assert stored(demo_app) == {"a.png": png(seed=3), "b.txt": b"text"}


def test_nonce_page_runs_custom_code_with_no_violation(page, demo):
    page.goto(demo.url + "/nonce-csp")
    drop_files(page, "myDropzone", [("a.png", png(seed=3)), ("b.png", png(seed=4))])
    wait_settled(page, "myDropzone", 2)
    page.wait_for_function("document.getElementById('uploaded-count').textContent === '2'")
    assert violations(page) == []
    # style() with the nonce applied too.
    color = page.eval_on_selector("#myDropzone", "el => getComputedStyle(el).borderTopColor")
    assert color == "rgb(46, 125, 50)"


def test_several_zones_each_with_their_own_options(page, demo, demo_app):
    page.goto(demo.url + "/several")
    assert page.text_content("#avatar-zone .dz-message") == "Drop one picture (1 MiB at most)"
    assert page.text_content("#documents-zone .dz-message") == "Drop PDF, text or CSV files"
    drop_files(page, "avatar-zone", [("me.png", png(seed=7)), ("again.png", png(seed=8))])
    drop_files(page, "documents-zone", [("table.csv", b"a,b\n1,2\n"), ("pic.png", png(seed=9))])
    wait_settled(page, "avatar-zone", 2)
    wait_settled(page, "documents-zone", 2)
    assert error_messages(page, "avatar-zone") == [
        "",
        "You can't upload any more files (at most 1).",
    ]
    assert error_messages(page, "documents-zone") == ["", DOCUMENTS_REFUSED]
    assert stored(demo_app) == {"me.png": png(seed=7), "table.csv": b"a,b\n1,2\n"}


def test_custom_options_and_init(page, demo, demo_app):
    page.goto(demo.url + "/custom")
    drop_files(
        page, "myDropzone", [("a.png", png(seed=1)), ("b.png", png(seed=2)), ("c.png", png(seed=3))]
    )
    assert page.locator(".dz-remove").all_text_contents() == ["Remove file"] * 3
    page.wait_for_timeout(200)
    assert stored(demo_app) == {}
    page.click("#start")
    page.wait_for_function("document.getElementById('status').textContent === '3 file(s) sent'")
    assert len(stored(demo_app)) == 3


def test_redirect_once_every_file_succeeded(page, demo):
    page.goto(demo.url + "/redirect")
    with page.expect_navigation(url="**/redirect/done"):
        drop_files(page, "myDropzone", [("a.png", png(seed=1)), ("b.png", png(seed=2))])
    assert page.text_content("#done") == "Every file arrived."


def test_no_redirect_when_a_file_failed(page, demo, demo_app):
    page.goto(demo.url + "/redirect")
    drop_files(page, "myDropzone", [("a.png", png(seed=1)), ("notes.txt", b"not a picture")])
    wait_settled(page, "myDropzone", 2)
    page.wait_for_timeout(500)
    assert page.url.endswith("/redirect")
    assert error_messages(page, "myDropzone") == ["", IMAGES_REFUSED]
    assert list(stored(demo_app)) == ["a.png"]


def test_stored_files_page_lists_uploads(page, demo):
    page.goto(demo.url + "/basic")
    drop_files(page, "myDropzone", [("listed.txt", b"12345")])
    wait_settled(page, "myDropzone", 1)
    page.goto(demo.url + "/stored")
    assert "listed.txt" in page.text_content("#stored")


def test_the_remove_link_page_deletes_what_it_stored(page, demo, demo_app):
    page.goto(demo.url + "/remove")
    drop_files(page, "myDropzone", [("gone.txt", b"soon gone"), ("kept.txt", b"stays")])
    wait_settled(page, "myDropzone", 2)
    assert sorted(stored(demo_app)) == ["gone.txt", "kept.txt"]
    page.evaluate(
        """() => new Promise(resolve => {
             const zone = document.getElementById('myDropzone');
             zone.addEventListener('dropzone:deleted', () => resolve(), { once: true });
             const previews = [...zone.querySelectorAll('.dz-preview')];
             const gone = previews.find(p => p.textContent.includes('gone.txt'));
             gone.querySelector('[data-dz-remove]').click();
           })"""
    )
    assert stored(demo_app) == {"kept.txt": b"stays"}


def test_every_page_loads_without_a_console_error(page, demo, demo_app):
    from flask import url_for

    from demo.app import PAGES

    with demo_app.test_request_context():
        urls = [url_for(endpoint) for endpoint, _ in PAGES]
    for url in urls:
        page.goto(demo.url + url)
        page.wait_for_load_state("load")
        assert page.console_errors == [], url  # the favicon too: no 404
        assert page.evaluate("() => document.querySelector('link[rel=icon]').href").endswith(
            "/static/favicon.svg"
        )


SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'pwned\'"><script>document.title="pwned"</script></svg>'


def test_the_stored_files_page_lists_sizes_serves_safely_and_deletes(page, demo, demo_app):
    page.goto(demo.url + "/basic")
    files = [
        ("photo.png", png(seed=1)),
        ("drawing.svg", SVG_WITH_SCRIPT),
        ("notes.txt", b"x" * 2560),
    ]
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 3)
    page.goto(demo.url + "/stored")
    rows = page.eval_on_selector_all(
        "#stored tbody tr",
        "rows => rows.map(r => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()])",
    )
    assert rows == [
        ["drawing.svg", f"{len(SVG_WITH_SCRIPT)} bytes"],
        ["notes.txt", "2.5 KiB"],
        ["photo.png", f"{len(png(seed=1))} bytes"],
    ]
    # a picture opens in the browser; the SVG (a document that runs script) downloads
    photo = page.request.get(demo.url + page.get_attribute("a:text-is('photo.png')", "href"))
    assert photo.body() == png(seed=1) and photo.headers["content-disposition"].startswith("inline")
    with page.expect_download() as download:
        page.click("a:text-is('drawing.svg')")
    assert download.value.suggested_filename == "drawing.svg"
    assert page.title() != "pwned"
    with page.expect_navigation():
        page.click("button[aria-label='Delete notes.txt']")
    assert page.url.endswith("/stored") and set(stored(demo_app)) == {"photo.png", "drawing.svg"}
    assert page.query_selector("a:text-is('notes.txt')") is None


def test_a_post_keeps_its_photos_through_a_form_error_and_editing_removes_one(page, demo, demo_app):
    page.goto(demo.url + "/post")
    drop_files(page, "photos", [("beach.png", png(seed=11)), ("dune.png", png(seed=12))])
    wait_settled(page, "photos", 2)
    with page.expect_navigation():
        page.click("#submit")  # no title
    assert page.text_content("#title-error") == "Give the post a title."
    page.wait_for_function("document.getElementById('photos')?.dropzone?.files.length === 2")
    assert stored(demo_app) == {}  # pending, not stored
    page.fill("#title", "Summer")
    with page.expect_navigation(url="**/posts/1"):
        page.click("#submit")
    assert page.title().startswith("Summer") and sorted(stored(demo_app)) == [
        "beach.png",
        "dune.png",
    ]
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#post-photos img')).every(i => i.complete && i.naturalWidth)"
    )
    with page.expect_navigation(url="**/posts/1/edit"):
        page.click("#edit")
    page.wait_for_function("document.getElementById('photos')?.dropzone?.files.length === 2")
    page.click("#photos .dz-preview:has-text('beach.png') [data-dz-remove]")
    drop_files(page, "photos", [("cliff.png", png(seed=13))])
    wait_settled(page, "photos", 2)
    with page.expect_navigation(url="**/posts/1"):
        page.click("#submit")
    assert page.locator("#post-photos img").evaluate_all("imgs => imgs.map(i => i.alt)") == [
        "dune.png",
        "cliff.png",
    ]
    assert sorted(stored(demo_app)) == [
        "cliff.png",
        "dune.png",
    ]  # the removed photo deleted by the view

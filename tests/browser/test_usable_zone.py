"""A zone people can use: outcomes in sight, the keyboard at all times, what a screen reader
hears, progress in numbers, and an in-form zone after the form came back with errors."""

from __future__ import annotations

import pytest

from support.browser import (
    NOT_A_PNG,
    drop_files,
    error_messages,
    payload,
    png,
    statuses,
    wait_settled,
)

EVIL = b"<!doctype html><html><script>alert(1)</script></html>"

PAGE = """<!doctype html><html lang="en"><head><title>zone</title>{{ dropzone.load_css() }}</head><body>
<main>{{ dropzone.create(action='upload') }}</main>{{ dropzone.load_js() }}
{{ dropzone.config(add_remove_links=True) }}</body></html>"""


@pytest.fixture
def zone_app(page_app, tmp_path):
    return lambda **settings: page_app(
        PAGE, {"DROPZONE_UPLOAD_FOLDER": str(tmp_path / "uploads"), **settings}
    )


def announced(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.fdz-announcer p'), p => p.textContent)"
    )


def test_outcomes_are_in_sight_without_hover_and_do_not_cover_the_name(page, serve, zone_app):
    server = serve(zone_app(DROPZONE_ALLOWED_FILE_TYPE="image"))
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("ok.png", png(seed=1)), ("evil.png", EVIL)])
    wait_settled(page, "myDropzone", 2)
    page.mouse.move(0, 0)  # nothing hovered
    assert statuses(page, "myDropzone") == ["success", "error"]
    assert error_messages(page, "myDropzone") == ["", NOT_A_PNG]
    looks = page.evaluate(
        """() => Array.from(document.querySelectorAll('#myDropzone .dz-preview'), (preview) => {
             const box = (selector) => preview.querySelector(selector).getBoundingClientRect();
             const style = (selector) => getComputedStyle(preview.querySelector(selector));
             const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
             const message = box('.dz-error-message'), name = box('.dz-filename'), size = box('.dz-size');
             return {
               message: [style('.dz-error-message').display, style('.dz-error-message').opacity],
               details: style('.dz-details').opacity,
               covers: message.height > 0 && (overlap(message, name) || overlap(message, size)),
               success: [style('.dz-success-mark').opacity, style('.dz-success-mark').animationName],
               error: [style('.dz-error-mark').opacity, style('.dz-error-mark').animationName],
             };
           })"""
    )
    stored, refused = looks
    assert (
        refused["message"] == ["block", "1"] and refused["details"] == "1" and not refused["covers"]
    )
    assert refused["error"] == ["1", "none"] and stored["error"][0] == "0"
    # the success mark stays (Dropzone's own fades it out after 3 s)
    assert stored["success"] == ["1", "none"] and stored["details"] == "1"
    assert stored["message"][0] == "none"
    assert sorted(announced(page)) == [f"evil.png: {NOT_A_PNG}", "ok.png uploaded."]


def test_the_empty_zone_states_its_rules_unless_the_app_words_it(page, serve, zone_app):
    rules = {
        "DROPZONE_ALLOWED_FILE_TYPE": "web_image",
        "DROPZONE_MAX_FILE_SIZE": 5,
        "DROPZONE_MAX_FILES": 3,
    }
    said = (
        "Drop files here or click to upload. Allowed: Images (JPEG, PNG, GIF, WebP, AVIF). "
        "Max filesize: 5 MiB. Max files: 3."
    )
    for settings, shown in [
        (rules, said),
        (
            {**rules, "DROPZONE_DEFAULT_MESSAGE": "Drop files here or click to upload."},
            "Drop files here or click to upload.",
        ),
        (
            {"DROPZONE_RULE_FILE_SIZE": "Up to {{maxFilesize}} MiB <each>."},
            "Drop files here or click to upload. Up to 3 MiB <each>.",
        ),
    ]:
        server = serve(zone_app(**settings))
        page.goto(server.url + "/")
        button = page.locator("#myDropzone .dz-message .dz-button")
        assert button.text_content() == shown and button.is_visible()
        # what a screen reader says for it: the button's name is the whole message
        assert page.get_by_role("button", name=shown, exact=True).count() == 1


def test_a_file_stored_that_dropzone_cannot_draw_is_only_stored(page, demo, demo_app):
    # /basic takes every type: an HTML page named .png is stored, and shown as stored alone,
    # without Dropzone's "Failed to load the image" error.
    page.goto(demo.url + "/basic")
    drop_files(page, "myDropzone", [("evil.png", EVIL), ("fine.png", png(seed=3))])
    wait_settled(page, "myDropzone", 2)
    page.wait_for_function("document.querySelectorAll('#myDropzone .dz-no-thumbnail').length === 1")
    assert statuses(page, "myDropzone") == ["success", "success"]
    classes = page.evaluate(
        """() => Array.from(document.querySelectorAll('#myDropzone .dz-preview'),
                            p => [p.classList.contains('dz-success'), p.classList.contains('dz-error')])"""
    )
    assert classes == [[True, False], [True, False]]
    assert error_messages(page, "myDropzone") == ["", ""]


def focus_on(page, selector: str, limit: int = 30) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_alone_adds_three_files_one_after_another_and_removes_one(page, serve, zone_app):
    server = serve(zone_app())
    # Playwright catches file dialogs once it listens for them: listen before any opens
    page.on("filechooser", lambda chooser: None)
    page.goto(server.url + "/")
    for index, key in enumerate(["Enter", "Space", "Enter"]):
        focus_on(page, "#myDropzone .dz-button")
        with page.expect_file_chooser() as chooser:
            page.keyboard.press(key)
        chooser.value.set_files(
            [{"name": f"f{index}.txt", "mimeType": "text/plain", "buffer": b"x" * (index + 1)}]
        )
        wait_settled(page, "myDropzone", index + 1)
    assert statuses(page, "myDropzone") == ["success"] * 3
    focus_on(page, '#myDropzone [data-dz-remove][aria-label="Remove file: f1.txt"]')
    link = page.evaluate(
        "() => [document.activeElement.getAttribute('role'), document.activeElement.getAttribute('aria-label')]"
    )
    assert link == ["button", "Remove file: f1.txt"]
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 2")
    names = page.evaluate(
        "() => document.getElementById('myDropzone').dropzone.files.map(f => f.name)"
    )
    assert names == ["f0.txt", "f2.txt"]
    # the focus went back to the zone's button, where Enter adds a fourth file
    assert page.evaluate("() => document.activeElement.matches('#myDropzone .dz-button')")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files([{"name": "f3.txt", "mimeType": "text/plain", "buffer": b"4"}])
    wait_settled(page, "myDropzone", 3)


def test_each_file_and_the_queue_show_their_progress_up_to_100(page, serve, zone_app):
    # chunks one after another, files one after another: the numbers have steps to show
    server = serve(
        zone_app(
            DROPZONE_CHUNKING=True,
            DROPZONE_CHUNK_SIZE=256 * 1024,
            DROPZONE_PARALLEL_UPLOADS=1,
        )
    )
    page.goto(server.url + "/")
    page.evaluate(
        """() => {
          window.totals = [];
          const bar = document.querySelector('#myDropzone .fdz-total-bar');
          new MutationObserver(() => window.totals.push(Number(bar.getAttribute('aria-valuenow'))))
            .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
        }"""
    )
    assert page.is_hidden("#myDropzone .fdz-total")  # nothing to show before an upload
    drop_files(
        page,
        "myDropzone",
        [("a.bin", payload(1024 * 1024 + 5, 1)), ("b.bin", payload(512 * 1024, 2))],
    )
    wait_settled(page, "myDropzone", 2)
    assert statuses(page, "myDropzone") == ["success", "success"]
    files = page.evaluate(
        """() => Array.from(document.querySelectorAll('#myDropzone .dz-preview'), p => [
             p.querySelector('.dz-progress').getAttribute('role'),
             p.querySelector('.dz-progress').getAttribute('aria-label'),
             p.querySelector('.dz-progress').getAttribute('aria-valuenow'),
             p.querySelector('.fdz-percent').textContent])"""
    )
    assert files == [
        ["progressbar", "a.bin", "100", "100%"],
        ["progressbar", "b.bin", "100", "100%"],
    ]
    totals = [value for value in page.evaluate("window.totals") if value]
    assert totals[-1] == 100 and len([value for value in totals if 0 < value < 100]) >= 3
    assert totals == sorted(totals)  # the total never goes back while the queue empties
    assert page.text_content("#myDropzone .fdz-total-percent") == "100%"
    assert page.get_attribute("#myDropzone .fdz-total-bar", "aria-label") == "All files"


def test_in_form_after_errors_says_which_files_to_add_again(page, demo, demo_app):
    page.goto(demo.url + "/in-form")
    drop_files(page, "album", [("a.png", png(seed=1)), ("b.png", png(seed=2))])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 2"
    )
    # queued files wait for the submit: no empty progress bars
    assert page.evaluate(
        "() => Array.from(document.querySelectorAll('#album .dz-progress'), b => getComputedStyle(b).display)"
    ) == ["none", "none"]
    with page.expect_navigation():
        page.click("#submit")  # no title: the form comes back with its error
    assert page.text_content("#title-error") == "Give the album a title."
    notice = "Add these files again, they were not kept: a.png, b.png."
    assert page.text_content("#album .fdz-notice") == notice
    assert notice in announced(page)
    page.fill("#title", "Holidays")
    drop_files(page, "album", [("a.png", png(seed=1))])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 1"
    )
    assert page.query_selector("#album .fdz-notice") is None  # gone once a file is added again
    with page.expect_navigation(url="**/album?**"):
        page.click("#submit")


def test_in_form_a_refused_file_message_goes_once_the_files_change(page, demo, demo_app):
    page.goto(demo.url + "/in-form")
    page.fill("#title", "Holidays")
    drop_files(page, "album", [("fake.png", EVIL)])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 1"
    )
    with page.expect_navigation():
        page.click("#submit")
    assert page.text_content("#files-error") == NOT_A_PNG
    assert (
        page.text_content("#album .fdz-notice")
        == "Add these files again, they were not kept: fake.png."
    )
    drop_files(page, "album", [("real.png", png(seed=4))])
    page.wait_for_function(
        "document.getElementById('album').dropzone.getAcceptedFiles().length === 1"
    )
    assert page.is_hidden("#files-error") and page.query_selector("#album .fdz-notice") is None


def test_a_file_just_over_the_limit_does_not_read_as_the_limit(page, serve, zone_app):
    server = serve(zone_app(DROPZONE_MAX_FILE_SIZE=1))
    page.goto(server.url + "/")
    drop_files(
        page, "myDropzone", [("big.bin", payload(1024 * 1024 + 1))]
    )  # refused by the browser
    wait_settled(page, "myDropzone", 1)
    assert error_messages(page, "myDropzone") == [
        "File is too big (1.01 MiB). Max filesize: 1 MiB."
    ]


def test_an_html_error_page_is_said_in_words_not_shown_as_markup(page, serve, zone_app):
    app = zone_app()
    app.view_functions["upload"] = lambda: (
        "<!doctype html><title>500</title><h1>Internal Server Error</h1>",
        500,
    )
    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("a.txt", b"a")])
    wait_settled(page, "myDropzone", 1)
    assert error_messages(page, "myDropzone") == ["Server error: 500"]
    assert announced(page) == ["a.txt: Server error: 500"]


def test_sizes_read_in_the_unit_they_are_best_read_in(page, serve, zone_app):
    server = serve(zone_app(DROPZONE_UPLOAD_ON_CLICK=True, DROPZONE_MAX_FILE_SIZE=None))
    page.goto(server.url + "/")
    sizes = page.evaluate(  # files of these sizes (Dropzone's own unit for 200 MiB: "0.2 GiB")
        """() => {
          const zone = document.getElementById('myDropzone').dropzone;
          const made = [];
          for (const size of [200 * 1024 * 1024, 3 * 1024 * 1024 * 1024, 1536, 512]) {
            const file = new File([new Uint8Array(16)], 'f.bin');
            Object.defineProperty(file, 'size', { value: size });
            zone.addFile(file);
            made.push(file.previewElement.querySelector('[data-dz-size]').textContent);
          }
          return made;
        }"""
    )
    assert sizes == ["200 MiB", "3 GiB", "1.5 KiB", "512 bytes"]


def test_a_zone_without_its_config_says_so_in_the_console(page, serve, page_app):
    app = page_app(
        """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
      {{ dropzone.create(action='upload', id='album') }}{{ dropzone.load_js() }}</body></html>""",
        {},
    )
    server = serve(app)
    page.goto(server.url + "/")
    page.wait_for_function("window.flaskDropzone && window.flaskDropzone.loaded")
    ours = [text for text in page.console_errors if text.startswith("flask-dropzone:")]
    assert ours == [
        'flask-dropzone: zone "album" is not set up; add {{ dropzone.config(id="album") }} to the page'
    ]

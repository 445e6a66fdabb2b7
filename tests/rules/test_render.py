import pytest
from flask import render_template_string
from markupsafe import Markup

from flask_dropzone import _vendor
from flask_dropzone._rules import render
from flask_dropzone._rules.settings import RASTER_IMAGES

from support.html import parse, zone_config, zone_configs

HOSTILE = "\"'`${alert(1)}</script><img src=x onerror=alert(1)>\u2028"


def test_config_emits_options_as_json(ctx):
    html = render_template_string(
        "{{ dropzone.config(max_file_size=0.5, max_files=4, upload_multiple=True, "
        "parallel_uploads=3, input_name='photo', allowed_file_type='image', timeout=600000) }}"
    )
    options = zone_config(html)["options"]
    assert options["maxFilesize"] == 0.5
    assert options["maxFiles"] == 4
    assert options["uploadMultiple"] is True
    assert options["parallelUploads"] == 3
    assert options["paramName"] == "photo"
    assert options["acceptedFiles"] == RASTER_IMAGES and "image/*" not in options["acceptedFiles"]
    assert options["timeout"] == 600000
    assert options["autoProcessQueue"] is True


def test_config_reads_app_settings(ctx):
    ctx.config.update(DROPZONE_MAX_FILE_SIZE=7, DROPZONE_MAX_FILE_EXCEED="No more!")
    options = zone_config(render_template_string("{{ dropzone.config() }}"))["options"]
    assert options["maxFilesize"] == 7
    assert options["dictMaxFilesExceeded"] == "No more!"


def test_default_type_accepts_files_without_extension(ctx):
    assert (
        zone_config(render_template_string("{{ dropzone.config() }}"))["options"]["acceptedFiles"]
        is None
    )


def test_messages_map_to_dropzone_dictionary(ctx):
    keys = {
        "default_message": "dictDefaultMessage",
        "browser_unsupported": "dictFallbackMessage",
        "invalid_file_type": "dictInvalidFileType",
        "file_too_big": "dictFileTooBig",
        "server_error": "dictResponseError",
        "max_file_exceeded": "dictMaxFilesExceeded",
        "cancel_upload": "dictCancelUpload",
        "remove_file": "dictRemoveFile",
        "cancel_confirmation": "dictCancelUploadConfirmation",
        "upload_canceled": "dictUploadCanceled",
    }
    kwargs = {keyword: f"message {index}" for index, keyword in enumerate(keys)}
    options = zone_config(ctx.extensions["dropzone"].config(**kwargs))["options"]
    for index, key in enumerate(keys.values()):
        assert options[key] == f"message {index}"


def test_hostile_values_stay_data(ctx):
    html = ctx.extensions["dropzone"].config(
        id=HOSTILE, invalid_file_type=HOSTILE, default_message=HOSTILE, redirect_url=HOSTILE
    )
    elements = parse(html)
    # Nothing but our three elements: the hostile text opened no tag of its own.
    assert [tag for tag, _, _ in elements] == ["script", "script"]
    assert "</script><img" not in str(html)
    config = zone_config(html)
    assert config["id"] == HOSTILE
    assert config["redirectUrl"] == HOSTILE
    assert config["options"]["dictInvalidFileType"] == HOSTILE  # shown with textContent
    # Dropzone inserts the default message as HTML, so it is escaped to show literally.
    assert config["options"]["dictDefaultMessage"] == str(Markup.escape(HOSTILE))


def test_the_empty_zone_states_its_rules_unless_the_app_words_it(ctx):
    dropzone = ctx.extensions["dropzone"]
    said = zone_config(dropzone.config(allowed_file_type="web_image", max_files=2))["options"][
        "dictDefaultMessage"
    ]
    assert said == (
        "Drop files here or click to upload. Allowed: Images (JPEG, PNG, GIF, WebP, AVIF). "
        "Max filesize: 3 MiB. Max files: 2."
    )
    custom = dropzone.config(
        allowed_file_custom=True, allowed_file_type=".a<b>", max_file_size=None
    )
    # inserted as HTML by Dropzone: escaped, as any text message
    assert (
        zone_config(custom)["options"]["dictDefaultMessage"]
        == "Drop files here or click to upload. Allowed: .a&lt;b&gt;."
    )
    ctx.config["DROPZONE_ZONES"] = {"avatar": {"allowed_file_type": "image", "max_files": 1}}
    named = zone_config(dropzone.config(id="avatar"))["options"]["dictDefaultMessage"]
    assert named.endswith("Max files: 1.") and "Images (PNG, JPEG" in named
    assert (
        zone_config(dropzone.config(default_message="Drop here"))["options"]["dictDefaultMessage"]
        == "Drop here"
    )
    ctx.config["DROPZONE_DEFAULT_MESSAGE"] = (
        "Drop files here or click to upload."  # 2.0.0's own words
    )
    said = zone_config(dropzone.config(max_files=2))["options"]["dictDefaultMessage"]
    assert said == "Drop files here or click to upload."


def test_markup_message_is_trusted_html(ctx):
    html = ctx.extensions["dropzone"].config(default_message=Markup("Drop<br>here"))
    assert zone_config(html)["options"]["dictDefaultMessage"] == "Drop<br>here"


def test_remove_and_cancel_links_are_escaped(ctx):
    options = zone_config(
        ctx.extensions["dropzone"].config(remove_file="<b>x</b>", cancel_upload="a&b")
    )["options"]
    assert options["dictRemoveFile"] == "&lt;b&gt;x&lt;/b&gt;"
    assert options["dictCancelUpload"] == "a&amp;b"


def test_config_loads_the_static_init_script_and_no_inline_code(ctx):
    elements = parse(ctx.extensions["dropzone"].config())
    scripts = [(attrs, text) for tag, attrs, text in elements if tag == "script"]
    inline = [
        attrs
        for attrs, text in scripts
        if "src" not in attrs and attrs.get("type") != "application/json"
    ]
    assert inline == []
    assert [attrs["src"] for attrs, _ in scripts if "src" in attrs] == [
        "/dropzone/static/flask-dropzone.js"
    ]


def test_custom_code_is_inline_and_raw(ctx):
    html = str(
        ctx.extensions["dropzone"].config(
            custom_init='dz = this; console.log("<ok>");', custom_options="addRemoveLinks: true,"
        )
    )
    (hook,) = [text for tag, attrs, text in parse(html) if tag == "script" and not attrs]
    assert 'dz = this; console.log("<ok>");' in hook
    assert "addRemoveLinks: true," in hook
    assert '["myDropzone"]' in hook


def test_nonce_goes_on_every_element(ctx):
    dropzone = ctx.extensions["dropzone"]
    html = (
        dropzone.load_css(nonce="n0nce")
        + dropzone.load_js(nonce="n0nce")
        + dropzone.config(nonce="n0nce", custom_init="1;")
        + dropzone.style("color: red", nonce="n0nce")
    )
    elements = [(tag, attrs) for tag, attrs, _ in parse(html)]
    assert len(elements) == 8  # Dropzone's stylesheet and script, and ours
    for tag, attrs in elements:
        assert attrs.get("nonce") == "n0nce", tag


def test_talisman_nonce_is_picked_up(make_app):
    from flask_talisman import Talisman

    app = make_app()
    Talisman(
        app,
        force_https=False,
        content_security_policy={"script-src": "'self'"},
        content_security_policy_nonce_in=["script-src"],
    )

    @app.route("/")
    def page():
        return render_template_string("{{ dropzone.load_js() }}{{ dropzone.config() }}")

    response = app.test_client().get("/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    elements = parse(response.get_data(as_text=True))
    assert [attrs.get("nonce") for _, attrs, _ in elements] == [
        nonce
    ] * 4  # load_js: 2, config(): 2


def test_redirect_view_and_url(ctx):
    ctx.config["DROPZONE_REDIRECT_VIEW"] = "done"
    dropzone = ctx.extensions["dropzone"]
    assert zone_config(dropzone.config())["redirectUrl"] == "/done"
    assert zone_config(dropzone.config(redirect_url="/elsewhere"))["redirectUrl"] == "/elsewhere"
    assert zone_config(dropzone.config(redirect_view=None))["redirectUrl"] is None


def test_several_zones_each_with_their_options(ctx):
    html = render_template_string(
        "{{ dropzone.create('upload', id='foo') }}{{ dropzone.create('upload', id='bar-baz') }}"
        "{{ dropzone.config(id='foo', default_message='Foo') }}"
        "{{ dropzone.config(id='bar-baz', default_message='Bar', max_files=1) }}"
    )
    configs = zone_configs(html)
    assert [
        (c["id"], c["options"]["dictDefaultMessage"], c["options"]["maxFiles"]) for c in configs
    ] == [
        ("foo", "Foo", None),
        ("bar-baz", "Bar", 1),
    ]
    forms = [attrs["id"] for tag, attrs, _ in parse(html) if tag == "form"]
    assert forms == ["foo", "bar-baz"]


def test_click_upload(ctx):
    config = zone_config(
        ctx.extensions["dropzone"].config(upload_on_click=True, upload_btn_id="go")
    )
    assert config["uploadOnClick"] is True
    assert config["uploadButton"] == "go"
    assert config["options"]["autoProcessQueue"] is False
    # Unlike 2.0.0, click upload does not silently switch on upload_multiple.
    assert config["options"]["uploadMultiple"] is False


def test_in_form_zone_honours_id_and_has_an_upload_url(ctx):
    dropzone = ctx.extensions["dropzone"]
    html = dropzone.create(id="album-files", in_form=True)
    assert parse(html) == [
        ("div", {"class": "dropzone", "id": "album-files", "data-flask-dropzone": None}, "")
    ]
    config = zone_config(dropzone.config(id="album-files", in_form=True, upload_action="upload"))
    assert config["inForm"] is True
    assert config["uploadUrl"] == "/upload"
    assert config["options"]["autoProcessQueue"] is False
    # Without upload_action the browser posts to the enclosing form's action.
    assert zone_config(dropzone.config(in_form=True))["uploadUrl"] is None


def test_create_action_endpoint_url_and_values(ctx):
    dropzone = ctx.extensions["dropzone"]
    assert parse(dropzone.create("upload"))[0][1]["action"] == "/upload"
    assert parse(dropzone.create(action="/direct"))[0][1]["action"] == "/direct"
    assert parse(dropzone.create("album_upload", album=3))[0][1]["action"] == "/albums/3/upload"
    assert parse(dropzone.create())[0][1]["action"] == "/page?x=1"
    with pytest.warns(DeprecationWarning):
        assert parse(dropzone.create(action_view="upload"))[0][1]["action"] == "/upload"


def test_create_escapes_id_and_action(ctx):
    (element,) = parse(ctx.extensions["dropzone"].create(action='/u?a="><script>', id=HOSTILE))
    assert element[0] == "form"
    assert element[1]["id"] == HOSTILE
    # Percent-encoded: the same URL, and safe where Dropzone writes it into HTML (its fallback form).
    assert element[1]["action"] == "/u?a=%22%3E%3Cscript%3E"
    assert "data-flask-dropzone" in element[1]


def test_csrf_token_is_sent_as_header(ctx):
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(ctx)
    config = zone_config(ctx.extensions["dropzone"].config(enable_csrf=True))
    token = config["options"]["headers"]["X-CSRF-Token"]
    assert token and config["csrf"] == {"field": "csrf_token", "token": token}


def test_csrf_without_csrfprotect_says_what_to_do(ctx):
    with pytest.raises(RuntimeError, match="CSRFProtect"):
        ctx.extensions["dropzone"].config(enable_csrf=True)


def test_local_assets(ctx):
    dropzone = ctx.extensions["dropzone"]
    assert parse(dropzone.load_js())[0][1] == {"src": "/dropzone/static/dropzone.min.js"}
    assert parse(dropzone.load_css())[0][1] == {
        "rel": "stylesheet",
        "href": "/dropzone/static/dropzone.min.css",
    }
    assert parse(dropzone.load_js(js_url="/my.js"))[0][1] == {"src": "/my.js"}
    assert parse(dropzone.load_css(css_url="/my.css"))[0][1]["href"] == "/my.css"


def test_the_extension_stylesheet_comes_after_dropzones_unless_left_out(ctx):
    dropzone = ctx.extensions["dropzone"]
    links = [attrs["href"] for _, attrs, _ in parse(dropzone.load_css())]
    assert links == ["/dropzone/static/dropzone.min.css", "/dropzone/static/flask-dropzone.css"]
    assert [
        attrs["href"] for _, attrs, _ in parse(dropzone.load_css(extension_css=False))
    ] == links[:1]
    assert [attrs["href"] for _, attrs, _ in parse(dropzone.load_css(css_url="/my.css"))][
        1
    ] == links[1]
    response = ctx.test_client().get(links[1])
    assert response.status_code == 200 and response.mimetype == "text/css"
    # CSP-clean: nothing it loads from anywhere (no url(), no @import)
    css = response.get_data(as_text=True)
    assert "url(" not in css and "@import" not in css


def test_cdn_assets_of_the_pinned_version_carry_sri(ctx):
    ctx.config["DROPZONE_SERVE_LOCAL"] = False
    dropzone = ctx.extensions["dropzone"]
    js = parse(dropzone.load_js())[0][1]
    assert (
        js["src"] == f"https://cdn.jsdelivr.net/npm/dropzone@{_vendor.VERSION}/dist/dropzone-min.js"
    )
    assert js["integrity"] == _vendor.INTEGRITY["dropzone-min.js"]
    assert js["crossorigin"] == "anonymous"
    css = parse(dropzone.load_css())[0][1]
    assert (
        css["href"] == f"https://cdn.jsdelivr.net/npm/dropzone@{_vendor.VERSION}/dist/dropzone.css"
    )
    assert css["integrity"] == _vendor.INTEGRITY["dropzone.css"]


def test_cdn_layouts_of_5x_and_6x():
    assert render.cdn_asset("5.9.3", "js") == (
        "https://cdn.jsdelivr.net/npm/dropzone@5.9.3/dist/min/dropzone.min.js",
        None,
    )
    assert render.cdn_asset("5.9.3", "css")[0].endswith("dropzone@5.9.3/dist/min/dropzone.min.css")
    assert render.cdn_asset("6.0.0-beta.2", "js")[0].endswith(
        "dropzone@6.0.0-beta.2/dist/dropzone-min.js"
    )
    with pytest.raises(ValueError):
        render.cdn_asset('6.3.5"><script>', "js")


def test_other_version_served_locally_falls_back_to_cdn(ctx):
    js = parse(ctx.extensions["dropzone"].load_js(version="5.9.3"))[0][1]
    assert js == {"src": "https://cdn.jsdelivr.net/npm/dropzone@5.9.3/dist/min/dropzone.min.js"}


def test_style_all_zones_and_one_zone(ctx):
    dropzone = ctx.extensions["dropzone"]
    assert parse(dropzone.style("border: 2px dashed #0087F7"))[0][2].strip() == (
        ".dropzone{border: 2px dashed #0087F7}"
    )
    assert parse(dropzone.style("color: red", id="1a b"))[0][2].strip() == (
        ".dropzone#\\31 a\\ b{color: red}"
    )


def test_style_cannot_close_its_element():
    html = render.style_block("color: red}</style><script>alert(1)</script>")
    assert [tag for tag, _, _ in parse(html)] == ["style"]


@pytest.mark.parametrize(
    "value, escaped",
    [
        ("foo", "foo"),
        ("1a", "\\31 a"),
        ("-1", "-\\31 "),
        ("-", "\\-"),
        ("a.b", "a\\.b"),
        ("é", "é"),
    ],
)
def test_css_identifier(value, escaped):
    assert render.css_identifier(value) == escaped


def test_create_without_action_posts_to_this_page_under_the_apps_prefix(app):
    with app.test_request_context("/p%C3%A4ge?x=1&y=a%20b", base_url="http://localhost/myapp"):
        (element,) = parse(app.extensions["dropzone"].create())
    assert element[1]["action"] == "/myapp/p%C3%A4ge?x=1&y=a%20b"


def test_config_carries_the_url_create_gave_its_zone(ctx):
    dropzone = ctx.extensions["dropzone"]
    assert (
        zone_config(dropzone.config(id="later"))["url"] is None
    )  # create() comes after: the element says
    dropzone.create("upload", id="z")
    assert zone_config(dropzone.config(id="z"))["url"] == "/upload"
    dropzone.create(action='/u?q="<x>', id="h")
    assert zone_config(dropzone.config(id="h"))["url"] == "/u?q=%22%3Cx%3E"

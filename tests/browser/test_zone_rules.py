"""A zone sends its signed rules and CSRF token to its own app, and to no other origin."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string, request, session
from flask_wtf.csrf import CSRFProtect

from flask_dropzone._rules import zonerules

from support.browser import drop_files, statuses, wait_settled

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action=action, id='zone') }}{{ dropzone.load_js() }}{{ dropzone.config(id='zone') }}
</body></html>"""
FORM = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
<form action="{{ action }}" method="post"><input name="title" value="t">
{{ dropzone.create(id='zone', in_form=True) }}<button id="send">Send</button></form>
{{ dropzone.load_js() }}{{ dropzone.config(id='zone', in_form=True) }}</body></html>"""


@pytest.fixture
def rules_app(make_app):
    """A zone under CSRFProtect, and the requests its /upload saw (as another origin's view)."""
    return lambda: with_rules_views(make_app(DROPZONE_ENABLE_CSRF=True))


def with_rules_views(app: Flask) -> tuple[Flask, list]:
    dropzone = app.extensions["dropzone"]
    csrf = CSRFProtect(app)
    seen = []

    @app.get("/")
    def index():
        return render_template_string(PAGE, action=request.args.get("action", "/upload"))

    @app.get("/form")
    def form():
        return render_template_string(FORM, action=request.args["action"])

    @app.route("/upload", methods=["POST", "OPTIONS"])
    @csrf.exempt  # the other origin's view: it records what reached it
    def upload():
        if request.method == "OPTIONS":
            return ""
        seen.append(
            {
                "rules": request.headers.get(zonerules.HEADER),
                "csrf": request.headers.get("X-CSRF-Token") or request.form.get("csrf_token"),
                "client": session.get("_dropzone_client"),
            }
        )
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    @app.after_request
    def cors(response):  # lets the page on 127.0.0.1 post to localhost
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "*"
        return response

    return app, seen


def test_a_zone_sends_its_rules_and_csrf_token_to_its_own_app_only(page, serve, rules_app):
    app, seen = rules_app()
    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "zone", [("a.txt", b"same origin")])
    wait_settled(page, "zone", 1)
    assert statuses(page, "zone") == ["success"]
    assert (
        zonerules.options(app, seen[0]["rules"], seen[0]["client"]) is not None
    )  # valid, for this client
    assert seen[0]["csrf"]

    other_origin = server.url.replace("127.0.0.1", "localhost") + "/upload"
    page.goto(server.url + "/?action=" + other_origin)
    drop_files(page, "zone", [("b.txt", b"another origin")])
    wait_settled(page, "zone", 1)
    assert statuses(page, "zone") == ["success"]
    assert len(seen) == 2 and seen[1]["rules"] is None and seen[1]["csrf"] is None


def test_an_in_form_zone_adds_no_csrf_field_to_a_form_posting_to_another_origin(
    page, serve, rules_app
):
    app, seen = rules_app()
    server = serve(app)
    other_origin = server.url.replace("127.0.0.1", "localhost") + "/upload"
    page.goto(server.url + "/form?action=" + other_origin)
    drop_files(page, "zone", [("c.txt", b"in a form")])
    with page.expect_navigation():
        page.click("#send")
    assert len(seen) == 1 and seen[0]["csrf"] is None and seen[0]["rules"] is None

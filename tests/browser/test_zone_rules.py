"""A zone sends its signed rules to its own app, and to no other origin."""

from __future__ import annotations

from flask import Flask, render_template_string, request

from flask_dropzone import Dropzone, zonerules

from .helpers import drop_files, statuses, wait_settled

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action=action, id='zone') }}{{ dropzone.load_js() }}{{ dropzone.config(id='zone') }}
</body></html>"""


def rules_app(tmp_path) -> tuple[Flask, list]:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SECRET_KEY"] = "zone rules in a browser"
    dropzone = Dropzone(app)
    seen = []

    @app.get("/")
    def index():
        return render_template_string(PAGE, action=request.args.get("action", "/upload"))

    @app.route("/upload", methods=["POST", "OPTIONS"])
    def upload():
        if request.method == "OPTIONS":
            return ""
        seen.append(request.headers.get(zonerules.HEADER))
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    @app.after_request
    def cors(response):  # lets the page on 127.0.0.1 post to localhost
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "*"
        return response

    return app, seen


def test_a_zone_sends_its_rules_to_its_own_app_only(page, serve, tmp_path):
    app, seen = rules_app(tmp_path)
    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "zone", [("a.txt", b"same origin")])
    wait_settled(page, "zone", 1)
    assert statuses(page, "zone") == ["success"]
    assert zonerules.options(app, seen[0]) is not None  # valid rules, signed by the app

    other_origin = server.url.replace("127.0.0.1", "localhost") + "/upload"
    page.goto(server.url + "/?action=" + other_origin)
    drop_files(page, "zone", [("b.txt", b"another origin")])
    wait_settled(page, "zone", 1)
    assert statuses(page, "zone") == ["success"]
    assert len(seen) == 2 and seen[1] is None

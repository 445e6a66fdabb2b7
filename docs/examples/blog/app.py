"""A photo blog: posts with photos, each author's photos in a folder of their own.

Run it with ``flask --app app run --debug``; the tutorial moves it to S3 by settings alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from flask_wtf.file import FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone import Dropzone, SavedFile
from flask_dropzone.forms import DropzoneField

dropzone = Dropzone()
csrf = CSRFProtect()
blog = Blueprint("blog", __name__)

# The photos' rules, in one place: the new-post and edit forms share them.
PHOTOS = {"allowed_file_type": "web_image", "max_files": 6, "max_file_size": 10}


class PostForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired()])
    photos = DropzoneField("Photos", validators=[FileRequired("Add a photo.")], **PHOTOS)


class EditForm(PostForm):
    photos = DropzoneField("Photos", **PHOTOS)  # the same rules; no photo is required


class LoginForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired()])


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config["SECRET_KEY"] = "dev"  # FLASK_SECRET_KEY=... in production
    app.config["DROPZONE_STRIP_METADATA"] = True  # photos kept without where they were taken
    app.config.from_prefixed_env()  # FLASK_DROPZONE_STORAGE=s3, ... (see the tutorial)
    app.config.update(config or {})
    os.makedirs(app.instance_path, exist_ok=True)
    dropzone.init_app(app)
    csrf.init_app(app)
    app.teardown_appcontext(close_db)
    with app.app_context():
        app.config["CSP"] = content_security_policy()
    app.after_request(send_policy)
    app.register_blueprint(blog)
    return app


# The policy ----------------------------------------------------------------------------


def content_security_policy():
    """No inline script anywhere; pictures from the app and, with S3, from the bucket."""
    origin = dropzone.storage_origin()  # None on disk: the app sends the photos itself
    images = "'self' data:" + (f" {origin}" if origin else "")
    return f"default-src 'self'; img-src {images}"


def send_policy(response):
    # send_stored() answers carry a stricter policy of their own: keep it.
    response.headers.setdefault("Content-Security-Policy", current_app.config["CSP"])
    return response


# The database: a post keeps its photos as the rows of their SavedFiles --------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS person (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS post (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES person (id),
    title TEXT NOT NULL,
    photos TEXT NOT NULL  -- JSON: [dataclasses.asdict(saved), ...]
);
"""


@dataclasses.dataclass
class Post:
    id: int
    author_id: int
    title: str
    photos: list[SavedFile]


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(os.path.join(current_app.instance_path, "blog.sqlite"))
        g.db.row_factory = sqlite3.Row
        g.db.executescript(SCHEMA)
    return g.db


def close_db(error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def photo_rows(photos):
    return json.dumps([dataclasses.asdict(photo) for photo in photos])


def load_post(post_id):
    row = get_db().execute("SELECT * FROM post WHERE id = ?", (post_id,)).fetchone()
    if row is None:
        abort(404)
    photos = [SavedFile(**each) for each in json.loads(row["photos"])]
    return Post(row["id"], row["author_id"], row["title"], photos)


def current_author():
    """The person logged in, else off to the login page."""
    if "person" not in session:
        abort(redirect(url_for("blog.login")))
    return session["person"]


# The views -----------------------------------------------------------------------------


@blog.get("/")
def index():
    posts = get_db().execute("SELECT id, title FROM post ORDER BY id DESC").fetchall()
    return render_template("index.html", posts=posts)


@blog.route("/login", methods=["GET", "POST"])
def login():
    """A stand-in for your own login (Flask-Login, say): a name is enough here."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        db.execute("INSERT OR IGNORE INTO person (name) VALUES (?)", (form.name.data,))
        db.commit()
        row = db.execute("SELECT id FROM person WHERE name = ?", (form.name.data,)).fetchone()
        session["person"] = row["id"]
        dropzone.forget_client()  # what the last person uploaded here is not this one's
        return redirect(url_for("blog.index"))
    return render_template("login.html", form=form)


@blog.route("/posts/new", methods=["GET", "POST"])
def new_post():
    author = current_author()
    form = PostForm()
    if form.validate_on_submit():
        photos = form.photos.claim(folder=f"photos/{author}")  # the author's own folder
        db = get_db()
        cursor = db.execute(
            "INSERT INTO post (author_id, title, photos) VALUES (?, ?, ?)",
            (author, form.title.data, photo_rows(photos)),
        )
        db.commit()
        return redirect(url_for("blog.show", post_id=cursor.lastrowid))
    return render_template("edit.html", form=form, heading="New post")


@blog.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id):
    author = current_author()
    post = load_post(post_id)
    if post.author_id != author:
        abort(403)
    form = EditForm(obj=post)  # post.photos: the SavedFiles the zone shows
    if form.validate_on_submit():
        added = form.photos.claim(folder=f"photos/{author}")  # first: if it fails, none deleted
        removed = form.photos.removed
        kept = [photo for photo in post.photos if photo not in removed]
        db = get_db()
        db.execute(
            "UPDATE post SET title = ?, photos = ? WHERE id = ?",
            (form.title.data, photo_rows(kept + added), post.id),
        )
        db.commit()
        for photo in removed:
            dropzone.delete_stored(photo)
        return redirect(url_for("blog.show", post_id=post.id))
    return render_template("edit.html", form=form, heading="Edit post")


@blog.get("/posts/<int:post_id>")
def show(post_id):
    return render_template("show.html", post=load_post(post_id))


@blog.get("/posts/<int:post_id>/photos/<int:index>")
def photo(post_id, index):
    post = load_post(post_id)  # a post's photos are public; check who may see them here
    if index >= len(post.photos):
        abort(404)
    return dropzone.send_stored(post.photos[index])

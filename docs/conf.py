"""Sphinx configuration of the Flask-Dropzone site: ``make docs`` builds it into
docs/_build/html with warnings as errors and every reference checked (``-n``)."""

from __future__ import annotations

import sys
from pathlib import Path

import flask_dropzone

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "Flask-Dropzone"
copyright = "the Flask-Dropzone authors, MIT License"
release = flask_dropzone.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "sphinx_copybutton",
    "sphinx_click",
    "pallets_sphinx_themes",
    "dropzone_reference",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "examples"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# Messages are quoted as the code says them: "can't", not a typographer's apostrophe.
smartquotes = False

# The API as the code says it, in the order the source gives it.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autoclass_content = "class"

# Every reference inside the site must resolve (-n). Names of other projects (Flask,
# Werkzeug, WTForms, click, the standard library's typing) have no inventory here: the
# site is built without a network, so they are left as plain text.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(flask|werkzeug|markupsafe|wtforms|click|blinker|jinja2)(\..*)?"),
    (r"py:.*", r"(typing|collections\.abc|os|io|weakref)\..*"),
    (r"py:.*", r"(Flask|Response|Markup|FileStorage|Headers|Field|HTTPException|NotFound)"),
    (r"py:.*", r"(Any|Optional|Union|Callable|Iterable|Mapping|Sequence|IO|Text)"),
    (r"py:.*", r"(stores\.Stores|WeakKeyDictionary|WSGIEnvironment|Namespace)"),
    # Private names (modules and classes starting with _) appear in signatures, and are never
    # documented: that is what private means here.
    (r"py:.*", r"(flask_dropzone\.)?_.*"),
]

html_theme = "flask"
html_title = f"Flask-Dropzone {release}"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_context = {"project_links": []}
html_sidebars = {
    "index": ["localtoc.html", "searchbox.html"],
    "**": ["localtoc.html", "relations.html", "searchbox.html"],
}
html_show_sourcelink = False
# The theme's version banner asks PyPI which release is newest: none of this site's business
# (the index's Flask-Dropzone is 2.0.0) and no request from a page opened as a file.
version_banner = False
copybutton_prompt_text = r"\$ "
copybutton_prompt_is_regexp = True

"""The README is the package's front page (and its PyPI page): every link in it leads to a file
of the repository, and its twenty-line example runs as it is written, storing an upload."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path

from .test_doc_examples import png
from support import photos

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# [text](target) and ![alt](target); the target ends at the first blank or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PYTHON = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def relative_links(text: str) -> list[str]:
    """The link targets that name something in the repository (not a URL, not an anchor)."""
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]


def test_every_relative_link_of_the_readme_is_a_file_of_the_repository():
    links = relative_links(README.read_text(encoding="utf-8"))
    assert len(links) > 10, "the README links into the site"
    broken = []
    for link in links:
        target = (ROOT / link.split("#")[0]).resolve()
        if ROOT not in target.parents or not target.is_file():
            broken.append(link)
    assert broken == [], f"README.md links to what the repository does not hold: {broken}"


def test_the_readmes_example_stores_a_picture_without_its_place_and_refuses_a_fake_one(
    tmp_path, monkeypatch
):
    examples = PYTHON.findall(README.read_text(encoding="utf-8"))
    assert len(examples) == 1, "the README has one Python example, the twenty lines"
    source = tmp_path / "app.py"
    source.write_text(examples[0], encoding="utf-8")
    name = f"readme_example_{tmp_path.name}"
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    app = module.app
    assert Path(app.instance_path) == tmp_path / "instance"  # uploads never in the repository
    client = app.test_client()

    page = client.get("/")
    assert page.status_code == 200 and b"data-flask-dropzone" in page.data
    stored = client.post("/upload", data={"file": (io.BytesIO(png()), "holiday.png")})
    assert stored.status_code == 200
    assert stored.get_json() == {
        "stored": [{"filename": "holiday.png", "stored_name": "holiday.png"}]
    }
    assert (tmp_path / "instance" / "uploads" / "holiday.png").read_bytes() == png()
    fake = client.post("/upload", data={"file": (io.BytesIO(b"<script>1</script>"), "x.png")})
    assert fake.status_code == 415
    assert sorted(p.name for p in (tmp_path / "instance" / "uploads").iterdir()) == ["holiday.png"]
    phone = photos.jpeg()
    taken = client.post("/upload", data={"file": (io.BytesIO(phone), "beach.jpg")})
    assert taken.status_code == 200
    kept = (tmp_path / "instance" / "uploads" / "beach.jpg").read_bytes()
    assert photos.scan_data(kept) == photos.scan_data(phone)
    assert [secret for secret in photos.SECRETS if secret in kept] == []  # no place, no device

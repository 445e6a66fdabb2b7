"""Putting files into zones the way a user does, and reading what the page shows."""

from __future__ import annotations

import base64
import mimetypes
import os
import random
import re
import struct
import zlib
from typing import Optional, Sequence

import pytest
from flask import Flask, render_template_string

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page_app(make_app):
    """``page_app(page, config)``: an app with ``config`` whose ``/`` renders the template
    ``page`` and whose ``/upload`` stores with ``save()`` and answers what it stored."""
    return lambda page, config: with_page_views(make_app(**config), page)


def with_page_views(app: Flask, page: str) -> Flask:
    dropzone = app.extensions["dropzone"]

    @app.get("/")
    def index():
        return render_template_string(page)

    @app.post("/upload")
    def upload():
        return dropzone.answer(dropzone.save())

    return app


#: What a zone refuses a file of another type with: the image group's, and the demo's documents'.
IMAGES_REFUSED = "You can't upload files of this type. Allowed: .png, .jpg, .gif, .webp, .avif, .bmp, .tiff, .heic, .heif, .ico."
DOCUMENTS_REFUSED = "You can't upload files of this type. Allowed: .pdf, .txt, .csv."
#: What a zone refuses a file named .png whose content is something else with.
NOT_A_PNG = "Its name says PNG, but its content is not."

DROP = """
([id, files]) => {
  const zone = document.getElementById(id);
  const transfer = new DataTransfer();
  for (const f of files) {
    const text = atob(f.data);
    const bytes = new Uint8Array(text.length);  // a plain loop: Array.from takes seconds a MiB
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    transfer.items.add(new File([bytes], f.name, { type: f.type }));
  }
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}
"""


def png(width: int = 8, height: int = 8, seed: int = 0) -> bytes:
    """A valid PNG of random pixels."""
    rng = random.Random(seed)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(
        b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def browser_type(name: str) -> str:
    """The type a browser gives a file it takes from disk: from the extension, or none."""
    return mimetypes.guess_type(name)[0] or ""


def drop_files(
    page, zone_id: str, files: Sequence[tuple[str, bytes]], types: Optional[Sequence[str]] = None
) -> None:
    """Drag files onto the zone."""
    items = [
        {
            "name": name,
            "data": base64.b64encode(data).decode(),
            "type": types[i] if types else browser_type(name),
        }
        for i, (name, data) in enumerate(files)
    ]
    page.evaluate(DROP, [zone_id, items])


def choose_files(page, zone_id: str, files: Sequence[tuple[str, bytes]]) -> None:
    """Pick files through the zone's file dialog input."""
    handle = page.evaluate_handle(
        "id => document.getElementById(id).dropzone.hiddenFileInput", zone_id
    )
    handle.as_element().set_input_files(
        [{"name": name, "mimeType": browser_type(name), "buffer": data} for name, data in files]
    )


def wait_settled(page, zone_id: str, count: int) -> None:
    """Wait until the zone holds ``count`` files and none is queued or uploading."""
    page.wait_for_function(
        """([id, count]) => {
          const dz = document.getElementById(id).dropzone;
          return dz && dz.files.length === count && dz.getActiveFiles().length === 0
            && dz.getAddedFiles().length === 0;
        }""",
        arg=[zone_id, count],
    )


def statuses(page, zone_id: str) -> list[str]:
    return page.evaluate(
        "id => document.getElementById(id).dropzone.files.map(f => f.status)", zone_id
    )


def error_messages(page, zone_id: str) -> list[str]:
    """The messages shown under the zone's thumbnails (empty for files without error)."""
    return page.evaluate(
        """id => Array.from(document.getElementById(id).querySelectorAll(".dz-preview"),
                            p => p.querySelector("[data-dz-errormessage]").textContent)""",
        zone_id,
    )


def responses(page, zone_id: str) -> list[list]:
    """Each file's server response: [status, body], or None if it was never sent."""
    return page.evaluate(
        """id => document.getElementById(id).dropzone.files.map(
             f => f.xhr ? [f.xhr.status, f.xhr.responseText] : null)""",
        zone_id,
    )


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def wait_settled_long(page, zone_id: str = "myDropzone") -> None:
    page.wait_for_function(
        """(id) => {
          const dz = document.getElementById(id).dropzone;
          return dz.getActiveFiles().length === 0 && dz.getAddedFiles().length === 0;
        }""",
        arg=zone_id,
        timeout=180_000,
    )


CHUNK_ANSWERED = """([id, index]) =>
  document.getElementById(id).dropzone.files[0].upload.chunks[index].status === 'success'"""


def chunk_index(route) -> int:
    body = route.request.post_data_buffer or b""
    return int(re.search(rb'name="dzchunkindex"\r\n\r\n(\d+)\r\n', body).group(1))


def held_requests(page, held: list, count: int) -> dict:
    """The ``count`` chunk requests held back, by chunk index, once the page has sent them."""
    for _ in range(1500):  # 30 s: a loaded machine sends them late, not never
        if len(held) == count:
            return {chunk_index(route): route for route in held}
        page.wait_for_timeout(20)  # the page's requests are routed meanwhile
    raise AssertionError(f"{len(held)} chunk requests sent, not {count}")


def remembered(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('flask-dropzone:'))")

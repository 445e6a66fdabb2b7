"""Refresh the vendored Dropzone.js dist files from the npm registry.

Usage: python scripts/vendor_dropzone.py [VERSION]

Downloads the package tarball of ``dropzone@VERSION`` (default: the pinned
version), checks it against the registry's published sha512 integrity, copies
the dist files and the license into ``src/flask_dropzone/static/dropzone/`` and
writes ``src/flask_dropzone/_vendor.py`` with the version and the SRI hashes
the CDN mode needs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

PINNED = "6.3.5"
REGISTRY = "https://registry.npmjs.org/dropzone"
ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "src" / "flask_dropzone" / "static" / "dropzone"
MODULE = ROOT / "src" / "flask_dropzone" / "_vendor.py"
# tarball member -> vendored file name
FILES = {
    "package/dist/dropzone-min.js": "dropzone-min.js",
    "package/dist/dropzone.css": "dropzone.css",
    "package/dist/basic.css": "basic.css",
    "package/LICENSE": "LICENSE",
}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def main(version: str) -> None:
    meta = json.loads(fetch(f"{REGISTRY}/{version}"))
    tarball = fetch(meta["dist"]["tarball"])
    algo, _, expected = meta["dist"]["integrity"].partition("-")
    if algo != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != expected:
        raise SystemExit(f"dropzone@{version}: tarball does not match the registry's integrity")

    DEST.mkdir(parents=True, exist_ok=True)
    hashes = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in FILES.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"dropzone@{version}: {member} missing from the tarball")
            data = extracted.read()
            (DEST / name).write_bytes(data)
            if name.endswith((".js", ".css")):
                hashes[name] = sri(data)

    MODULE.write_text(
        '"""Pinned Dropzone.js release; written by scripts/vendor_dropzone.py, do not edit."""\n\n'
        f"VERSION = {version!r}\n"
        "# Subresource Integrity of the dist files, identical on the npm registry and its CDNs.\n"
        f"INTEGRITY = {json.dumps(hashes, indent=4, sort_keys=True)}\n"
    )
    print(f"vendored dropzone@{version} into {DEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else PINNED)

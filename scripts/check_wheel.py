"""``make lint``: the wheel builds and carries the project's license and the vendored Dropzone's.

Run once per CI run (here, not in pytest, which CI runs twice)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems(wheel: Path) -> list[str]:
    """What the wheel lacks, in words; empty when it is whole."""
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    found = []
    project = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    if not project:
        found.append("no .dist-info/licenses/LICENSE")
    elif not archive.read(project[0]).startswith(b"MIT License"):
        found.append("the project's LICENSE is not the MIT License")
    if "flask_dropzone/static/dropzone/LICENSE" not in names:
        found.append("no flask_dropzone/static/dropzone/LICENSE (Dropzone.js's)")
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    if b"License-Expression: MIT" not in metadata:
        found.append("METADATA has no License-Expression: MIT")
    return found


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
            + ["-w", out, str(ROOT)],
            capture_output=True,
            text=True,
        )
        if built.returncode:
            print(built.stdout + built.stderr, file=sys.stderr)
            return 1
        (wheel,) = Path(out).glob("*.whl")
        found = problems(wheel)
    for problem in found:
        print(f"{wheel.name}: {problem}", file=sys.stderr)
    if not found:
        print(f"{wheel.name}: both licenses, License-Expression: MIT")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

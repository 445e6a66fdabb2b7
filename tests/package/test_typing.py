"""The package ships py.typed: its annotations must hold."""

import subprocess
import sys

from support import ROOT


def test_the_package_type_checks():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "src/flask_dropzone"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

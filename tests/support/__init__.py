"""What the tests share: helpers, the app factory, and the fixtures of the servers they start."""

from pathlib import Path

#: The repository's root folder.
ROOT = Path(__file__).resolve().parent.parent.parent

"""Errors of Flask-WTF's file validators that name the files they refused.

``FileAllowed`` and ``FileSize`` judge a list of files but stop at the first they refuse, with
a message that names none ("File does not have an approved extension: png, jpg"): in a zone of
several files the person cannot tell which to remove. A :class:`~.forms.DropzoneField` runs
them as they are, and where one refuses, asks it again of each file alone to name every file
it refuses: "b.gif, c.webp: File does not have an approved extension: png, jpg". Other
validators, which may judge the list as a whole (``FileRequired``, your own), are left as they
are.
"""

from __future__ import annotations

from typing import Any, Iterable

from flask_wtf.file import FileAllowed, FileSize
from wtforms.validators import StopValidation, ValidationError

#: Flask-WTF's validators that judge each file on its own, whatever the others.
PER_FILE = (FileAllowed, FileSize)


def naming_files(validators: Iterable[Any]) -> list[Any]:
    """``validators`` with those that judge each file on its own naming what they refuse."""
    return [_Naming(each) if isinstance(each, PER_FILE) else each for each in validators]


class _OneFile:
    """The field as a validator sees it, holding one of its files."""

    def __init__(self, field: Any, file: Any) -> None:
        self._field = field
        self.data = [file]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._field, name)


class _Naming:
    """A per-file validator whose refusal names the refused files."""

    def __init__(self, validator: Any) -> None:
        self.validator = validator

    def __call__(self, form: Any, field: Any) -> None:
        try:
            self.validator(form, field)
        except (StopValidation, ValidationError) as error:
            message = error.args[0] if error.args else ""
            refused = [
                each.filename for each in _files(field) if not self._allows(form, field, each)
            ]
            if not message or not refused:
                raise
            raise type(error)(f"{', '.join(refused)}: {message}") from None

    def _allows(self, form: Any, field: Any, file: Any) -> bool:
        try:
            self.validator(form, _OneFile(field, file))
        except (StopValidation, ValidationError):
            return False
        return True


def _files(field: Any) -> list[Any]:
    data = field.data
    return list(data) if isinstance(data, list) else []

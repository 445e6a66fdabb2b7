"""Signals an app can connect to, sent with the app as sender (blinker, as Flask's own).

``file_stored``: a file ``dropzone.save()`` stored, with ``saved``, the
:class:`~flask_dropzone.SavedFile` that ``save()`` returns for it; single,
parallel and chunked uploads alike (a chunked file once, when it is whole).

``file_deleted``: a stored file deleted from its zone's remove link or by
``dropzone.delete_stored()``, with ``name`` and ``folder`` (as its store names it: a
path, or a key prefix).

``upload_refused``: a file (or a request) refused, with ``filename`` (the
client's name for the file, None when the whole request was refused before a
file was known), ``status`` and ``reason`` (the message the client is shown).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A file stored by ``save()`` or a form field's ``claim()`` (a chunked file once, whole; a
#: direct upload once completed): ``saved``, its :class:`~flask_dropzone.SavedFile`.
file_stored = _signals.signal("file-stored")
#: A stored file deleted from its remove link or by ``delete_stored()``: ``name``, ``folder``.
file_deleted = _signals.signal("file-deleted")
#: A file or request refused: ``filename`` (None for the whole request), ``status``,
#: ``reason`` (the message shown) and ``zone`` (the named zone, or None).
upload_refused = _signals.signal("upload-refused")

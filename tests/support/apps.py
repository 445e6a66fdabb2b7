"""The one app factory the tests build their apps with (the fixture ``make_app``)."""

from __future__ import annotations

from typing import Callable

import pytest
from flask import Flask

from flask_dropzone import Dropzone

#: Parametrize a test over both stores: ``@pytest.mark.parametrize("storage", STORES)``; its
#: S3 case is marked ``s3`` (so ``-m "not s3"`` leaves it out and its disk case in).
STORES = ["disk", pytest.param("s3", marks=pytest.mark.s3)]

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(request: pytest.FixtureRequest, tmp_path) -> MakeApp:
    """``make_app(storage="disk", *, instance="instance", dropzone=True, **config)``.

    A Flask app named after the test's module, its instance folder ``tmp_path / instance``
    (never the repository's), SECRET_KEY "test", then ``config``, then ``Dropzone(app)``, so
    that a setting that cannot work raises here. ``storage="s3"`` adds the SeaweedFS bucket's
    settings (``s3_settings``): the test must be marked ``s3``, as it is when it asks for a
    fixture of S3 or when its case is the S3 one of :data:`STORES`. Apps a test makes share
    one instance folder (one server's disk) unless ``instance`` names another.
    """

    def make(
        storage: str = "disk", *, instance: str = "instance", dropzone: bool = True, **config
    ) -> Flask:
        app = Flask(request.module.__name__, instance_path=str(tmp_path / instance))
        app.config["SECRET_KEY"] = "test"
        if storage == "s3":
            if request.node.get_closest_marker("s3") is None:
                pytest.fail("make_app(storage='s3') in a test not marked s3", pytrace=False)
            app.config.update(request.getfixturevalue("s3_settings"))
        elif storage != "disk":
            raise ValueError(f"storage is 'disk' or 's3', not {storage!r}")
        app.config.update(config)
        if dropzone:
            Dropzone(app)
        return app

    return make

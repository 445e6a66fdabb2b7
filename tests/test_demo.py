"""The demo's views apply the same settings as their zones."""

from __future__ import annotations

import io

from demo.app import ONE_AVATAR, create_app

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_the_one_picture_zone_takes_one_picture_on_the_server_too(tmp_path):
    app = create_app({"SECRET_KEY": "demo test", "WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path)
    files = {f"file[{i}]": (io.BytesIO(PNG), f"{i}.png") for i in range(3)}
    response = app.test_client().post("/several/avatar", data=files, content_type="multipart/form-data")
    assert ONE_AVATAR["max_files"] == 1
    assert response.status_code == 400 and response.get_data(as_text=True) == "You can't upload any more files."

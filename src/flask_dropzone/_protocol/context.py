"""The app a request (or an app context) is for, as the object itself: what is kept or
passed on must not be Flask's proxy, which names whatever app is current later."""

from __future__ import annotations

from flask import Flask, current_app


def the_app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]

"""Errors the console answers with: JSON under /api/, a page elsewhere; always a status code."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError


class ApiError(Exception):
    """A request the console refuses or cannot serve: `status`, a message, and a hint."""

    def __init__(self, status: int, message: str, hint: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint
        self.headers = headers or {}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def respond(error: ApiError) -> tuple[Response | str, int, dict[str, str]]:
    if wants_json():
        body = {"error": error.message}
        if error.hint:
            body["hint"] = error.hint
        return jsonify(body), error.status, error.headers
    return (render_template("error.html", status=error.status, message=error.message,
                            hint=error.hint), error.status, error.headers)


def from_http(exc: HTTPException):
    """Werkzeug's own errors (404, 405, 413, ...) in the same shape."""
    if isinstance(exc, SecurityError):  # an untrusted Host: no page can be drawn for it
        return jsonify(error="this console answers to loopback host names only"), 400
    return respond(ApiError(exc.code or 500, exc.description or exc.name))


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, respond)
    app.register_error_handler(HTTPException, from_http)

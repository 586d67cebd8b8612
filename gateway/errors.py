"""Every error the API returns, in one place: {"error": {"code", "message", "fields"}} + status."""
import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shared.contracts import errors

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def body(code, message, fields=None):
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def register(app):
    @app.errorhandler(errors.PitlaneError)
    def pitlane_error(exc):
        response = jsonify(body(exc.code, exc.message, exc.fields))
        response.status_code = exc.status
        if exc.status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="pitlane"'
        return response

    @app.errorhandler(ValidationError)
    def invalid(exc):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return jsonify(body("validation_failed", "invalid input", messages)), 400

    @app.errorhandler(HTTPException)
    def http_error(exc):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
                415: "unsupported_media_type", 429: "too_many_requests"}.get(exc.code, "http_error")
        response = jsonify(body(code, exc.description or exc.name))
        response.status_code = exc.code
        if isinstance(exc, MethodNotAllowed):  # a 405 names the methods the path answers
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
        return response

    @app.errorhandler(RecursionError)
    def too_deep(exc):
        # only hostile input recurses this far: JSON nested thousands deep, in a body read directly
        log.warning("refused input nested too deeply: %s", exc)
        return jsonify(body("validation_failed", "the body is nested too deeply",
                            {"_body": ["nested too deeply"]})), 400

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error")
        return jsonify(body("internal", "an unexpected error; it has been logged")), 500

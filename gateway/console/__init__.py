"""The web console: server-rendered screens (Flask + Jinja) served by the gateway, on the same API.

Each screen reads and acts through `console.client.Api` with the signed-in person's own token,
so it shows only what the API would answer them. Pages work without JavaScript (forms post and
the page comes back); console.js adds live refresh of the boards and in-place answers.

Modules: `views` (sign-in, the shell, the workshop board, the API page, the change feed's
endpoint), one module per screen family beside it, `client` (the API in-process), `changes` (what
moved, per branch, for boards left open), `present` (times in the branch's zone, money in its
currency, SLA badges).
"""
from datetime import timedelta

from flask import Flask


def install(app: Flask):
    from gateway.console import customer, views, advisor, technician, parts, operations, webhooks  # noqa: F401  routes

    app.secret_key = views.session_secret()
    app.config.update(SESSION_COOKIE_NAME="pitlane_console", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
                      SESSION_COOKIE_SECURE=views.secure_cookies())
    app.register_blueprint(views.console)
    app.add_url_rule("/", endpoint="root", view_func=views.root)
    # the address messages carry (shared/links.py): the customer's page, outside /console
    app.add_url_rule("/customer/<token>", endpoint="customer_page", view_func=customer.link_page)

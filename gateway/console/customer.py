"""Screen module (being built)."""
from flask import render_template

from gateway.console.views import console


@console.get("/customer")
def customer_lookup():
    return render_template("console/refused.html", refused=type("R", (), {"message": "not built yet", "reasons": []})), 501

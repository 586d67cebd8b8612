"""Screen module (being built)."""
from flask import render_template

from gateway.console.views import console, signed_in


@console.get("/operations")
@signed_in
def operations():
    return render_template("console/refused.html", refused=type("R", (), {"message": "not built yet", "reasons": []})), 501

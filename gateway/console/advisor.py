"""Screen module (being built)."""
from flask import render_template

from gateway.console.views import console, signed_in


@console.get("/day")
@signed_in
def day_board():
    return render_template("console/refused.html", refused=type("R", (), {"message": "not built yet", "reasons": []})), 501

"""Erasure and export of a customer's data on request (GDPR art. 15 and 17), and the registry
other parts of pitlane plug into.

`ERASERS` and `EXPORTERS` are lists of functions `(tx, customer_id) -> dict | None`, called in the
erasure's or export's transaction (crm's schema). crm's own data is handled in service.py/store.py;
the lead wires in other parts (e.g. messages and consent, services/crm/messages*.py) with
`register_eraser` / `register_exporter`, each under the name of what it holds. An exporter's dict
goes into the export under that name; an eraser's dict, if any, is what it removed (counts), shown
in the answer under the same name.

What is kept, and why: invoices and warranty records (billing keeps them by customer_id only, no
names; tax law and the warranty need them), the vehicle's VIN (warranty, recalls), the pseudonymised
customer row (so those records still point at a customer). What goes: name (becomes
domain.pseudonym), email, phone, other contact entries, the vehicle's plate, the free text of
notes, complaints, feedback, surveys and the contact log, and the odometer history's notes.
"""
ERASERS: dict = {}  # name -> function
EXPORTERS: dict = {}


def register_eraser(function, name: str | None = None):
    ERASERS[name or function.__name__] = function
    return function


def register_exporter(function, name: str | None = None):
    EXPORTERS[name or function.__name__] = function
    return function


def run_erasers(tx, customer_id) -> dict:
    """What every registered eraser removed, by its name."""
    done = {}
    for name, eraser in ERASERS.items():
        done[name] = eraser(tx, customer_id)
    return done


def run_exporters(tx, customer_id) -> dict:
    """What every registered exporter holds on the customer, by its name (None left out)."""
    held = {}
    for name, exporter in EXPORTERS.items():
        found = exporter(tx, customer_id)
        if found is not None:
            held[name] = found
    return held

"""What a customer sees of their repair without a staff token, and the decisions they make there.

Two ways in: the repair order's number with the car's plate, or the signed link a message
carried. The answer puts together workshop's view of the order (progress, the promised time, the
work approved and the work waiting for a decision), billing's gross price of each waiting line
(tax per line, as the invoice will charge it) and billing's invoice once there is one. A
decision on the waiting lines is recorded by workshop as the customer's online consent, with
the time it was given.
"""
from marshmallow import fields, validate

from shared import links
from shared.contracts import errors
from shared.contracts.api import workshop
from shared.contracts.schemas import Out, Strict as Schema, aware_datetime, boolean, text


class LineDecision(Schema):
    line_id = fields.UUID(required=True)
    approved = boolean(required=True)

# what the public answer never carries (workshop names them for the gateway only)
INTERNAL = ("repair_order_id", "branch_id")
INVOICE_FIELDS = ("number", "status", "subtotal_cents", "tax_cents", "total_cents", "covered_cents",
                  "discount_cents", "credited_cents", "paid_cents", "balance_cents", "issued_at", "paid_at")
INVOICE_LINE_FIELDS = ("description", "quantity", "pay_type", "charged_cents", "tax_cents")


class Door:
    """The order a request may see: by number and plate, or by a signed link's token."""

    def __init__(self, call):
        self.call = call

    def by_number(self, number: str, plate: str) -> dict:
        if not plate:
            raise errors.ValidationFailed("the vehicle's plate is required", {"plate": ["required"]})
        return self.call("workshop", "customer_view", number, plate)

    def by_link(self, token: str) -> dict:
        held = self.held(token)
        return self.call("workshop", "customer_view_by_link", held["repair_order_id"], held["number"])

    @staticmethod
    def held(token: str) -> dict:
        try:
            return links.read_customer_link(token)
        except links.LinkRefused as refused:
            raise errors.NotFound(str(refused), {"token": [str(refused)]}) from None

    def decide(self, view: dict, body: dict) -> dict:
        """The customer's decisions on the waiting lines: workshop records them as online consent."""
        return self.call("workshop", "customer_decide", view["repair_order_id"], view["number"], body)


def public(call, view: dict) -> dict:
    """Workshop's view with gross prices (the approved lines and those waiting for a decision),
    the branch's name, time zone and currency, and the invoice once there is one."""
    answer = {k: v for k, v in view.items() if k not in INTERNAL}
    branch = call("booking", "get_branch", view["branch_id"])
    answer["branch"] = {"name": branch.get("name"), "timezone": branch.get("timezone"),
                        "currency": branch.get("currency")}
    approved, waiting = view.get("approved_lines") or [], view.get("waiting")
    if approved or waiting:
        priced = call("billing", "customer_prices", view["repair_order_id"], view["branch_id"], approved,
                      waiting["lines"] if waiting else [])
        answer["approved_lines"] = priced["approved"]["lines"]
        answer["approved_gross_cents"] = priced["approved"]["gross_cents"]
        if waiting:
            answer["waiting"] = {**waiting, **priced["waiting"]}
    answer["invoice"] = _invoice(call, view["repair_order_id"]) if view.get("status") in INVOICED else None
    return answer


INVOICED = ("delivered", "closed")


def _invoice(call, repair_order_id) -> dict | None:
    try:
        invoice = call("billing", "invoice_for_repair_order", str(repair_order_id))
    except errors.NotFound:
        return None  # delivered a moment ago: billing issues it shortly
    shown = {k: invoice.get(k) for k in INVOICE_FIELDS}
    shown["lines"] = [{k: line.get(k) for k in INVOICE_LINE_FIELDS} for line in invoice.get("lines", [])]
    return shown


class Decisions(Schema):
    """The customer's decision on each line waiting for it; `name` is who gave it."""

    quote_id = fields.UUID(required=True)
    decisions = fields.List(fields.Nested(LineDecision), required=True, validate=validate.Length(min=1, max=200))
    name = text(required=True, max_length=120)


# -- the answer, as the gateway's own contract (workshop's view is one part of it) ---------------------
class PricedForCustomer(workshop.WaitingLine):
    """A line as workshop quotes it, with what the customer pays for it."""
    keep_for_customer = fields.Boolean()
    charged_cents = fields.Integer(metadata={"description": "what the customer pays before tax: a customer-pay"
                                                            " line's net less discounts, other pay types 0"})
    discount_cents = fields.Integer()
    tax_cents = fields.Integer(metadata={"description": "the line's tax, rounded half up for this line"})
    gross_cents = fields.Integer()


class Waiting(Out):
    quote_id = fields.UUID()
    kind = fields.String(metadata={"description": "initial (the quote) or supplement (work found during the repair)"})
    lines = fields.List(fields.Nested(PricedForCustomer))
    net_cents = fields.Integer()
    tax_cents = fields.Integer()
    gross_cents = fields.Integer()


class BranchShown(Out):
    name = fields.String()
    timezone = fields.String()
    currency = fields.String(allow_none=True)


class InvoiceLineShown(Out):
    description = fields.String()
    quantity = fields.Decimal(as_string=True)
    pay_type = fields.String()
    charged_cents = fields.Integer()
    tax_cents = fields.Integer()


class InvoiceShown(Out):
    number = fields.String()
    status = fields.String()
    subtotal_cents = fields.Integer()
    tax_cents = fields.Integer()
    total_cents = fields.Integer()
    covered_cents = fields.Integer()
    discount_cents = fields.Integer()
    credited_cents = fields.Integer()
    paid_cents = fields.Integer()
    balance_cents = fields.Integer()
    issued_at = aware_datetime()
    paid_at = aware_datetime(allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineShown))


class Stage(Out):
    at = aware_datetime()
    status = fields.String()


class CustomerPage(Out):
    """What a customer sees of their repair: progress, the promised time, the approved work and the
    work waiting for their decision at gross prices, and the invoice once issued."""
    number = fields.String()
    status = fields.String()
    stage = fields.String(metadata={"description": "the status in the customer's words"})
    promised_at = aware_datetime(allow_none=True)
    branch = fields.Nested(BranchShown)
    timeline = fields.List(fields.Nested(Stage))
    approved_lines = fields.List(fields.Nested(PricedForCustomer))
    approved_total_cents = fields.Integer(metadata={"description": "net, as approved"})
    approved_gross_cents = fields.Integer()
    supplement = fields.Dict(allow_none=True, metadata={"description": "a supplement waiting (as `waiting`,"
                                                                       " kept for earlier clients)"})
    waiting = fields.Nested(Waiting, allow_none=True)
    invoice = fields.Nested(InvoiceShown, allow_none=True)

"""Billing's rules, no I/O: what the customer is charged for each delivered line, tax in integer
cents, payments against the balance, and the warranty claim the manufacturer is sent."""
import calendar
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from shared.contracts.api.billing import (CLAIM_ENDINGS, CLAIM_STEPS, EXCLUSIONS,  # noqa: F401  (the API's words)
                                          PAYMENT_METHODS, PERIODS)
from shared.domain import Aggregate, RuleBroken, StateConflict, stored  # noqa: F401  (store.py writes through it)

CHARGED = "customer"  # only customer-pay lines are charged; warranty, internal, goodwill go elsewhere
WARRANTY = "warranty"  # claimed from the manufacturer (domain.md s6)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stored_fields(cls) -> tuple:
    return tuple(f.name for f in fields(cls) if f.name != "events")


def discount_allowed(invoiced: bool) -> None:
    """Discounts are recorded before the invoice is issued and applied at issue; an issued invoice is
    never changed (a correction is a credit note)."""
    if invoiced:
        raise StateConflict("the invoice is already issued: correct it with a credit note",
                            repair_order_id="already invoiced")


def line_tax(charged_cents: int, tax_rate_bp: int) -> int:
    """A line's tax: its charged amount times the branch's rate (basis points), rounded half up to the
    cent for THIS line; an invoice's tax is the sum of its lines' taxes (never rounded once more)."""
    return round_half_up(Decimal(charged_cents) * tax_rate_bp / 10000)


def cap_to_approved(line: dict, approved: dict) -> dict:
    """What billing may charge for a delivered line: the amount the customer approved for it (quote or
    supplement), never more. A line nobody approved is refused (charged nothing); a line above its
    approved amount is capped at it. Either way the reason is kept on the line (`billing_note`)."""
    granted = approved.get(str(line["line_id"]))
    if granted is None:
        return {**line, "approved_cents": None, "billable_cents": 0,
                "billing_note": "refused: not approved by the customer"}
    if line["net_cents"] > granted:
        return {**line, "approved_cents": granted, "billable_cents": granted,
                "billing_note": f"capped at the approved {granted} cents (delivered {line['net_cents']})"}
    return {**line, "approved_cents": granted, "billable_cents": line["net_cents"], "billing_note": None}


def discount_of(base_cents: int, discount: dict) -> int:
    """A discount's cents on `base_cents`: a percentage (basis points, rounded half up) or an amount,
    never more than the base (nothing is charged below zero)."""
    if discount.get("percent_bp") is not None:
        cents = round_half_up(Decimal(base_cents) * discount["percent_bp"] / 10000)
    else:
        cents = discount["amount_cents"]
    return max(0, min(cents, base_cents))


def spread(total: int, weights: list[int]) -> list[int]:
    """`total` cents shared over lines in proportion to `weights`, largest remainders first: the parts
    add up to `total` exactly and none exceeds its weight."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def apply_discounts(lines: list[dict], discounts) -> list[dict]:
    """Discounts recorded before issue, applied to the customer-pay lines: line discounts on their line
    first, then order discounts on what is left, spread over the lines in proportion (so the tax per
    line stays exact). A discount on a line that is not charged to the customer takes nothing."""
    lines = [{**line, "discount_cents": 0} for line in lines]
    by_id = {str(line["line_id"]): line for line in lines}
    for d in (d for d in discounts if d.get("line_id") is not None):
        line = by_id.get(str(d["line_id"]))
        if line is not None:
            line["discount_cents"] += discount_of(line["billable_cents"] - line["discount_cents"], d)
    for d in (d for d in discounts if d.get("line_id") is None):
        left = [line["billable_cents"] - line["discount_cents"] for line in lines]
        for line, share in zip(lines, spread(discount_of(sum(left), d), left)):
            line["discount_cents"] += share
    return lines


def customer_prices(lines: list[dict], tax_rate_bp: int, discounts=()) -> dict:
    """What the customer will pay for each line, as the invoice will charge it: a customer-pay line
    its net less the discounts recorded so far, other pay types nothing; tax per line, half up.
    For the customer's page before the invoice exists (the approved work, and work waiting for a
    decision, which has no discount yet)."""
    held = [{**line, "billable_cents": line["net_cents"] if line.get("pay_type", CHARGED) == CHARGED else 0}
            for line in lines]
    priced = []
    for line in apply_discounts(held, discounts):
        charged = line["billable_cents"] - line["discount_cents"]
        tax = line_tax(charged, tax_rate_bp)
        priced.append({**{k: v for k, v in line.items() if k != "billable_cents"}, "charged_cents": charged,
                       "tax_cents": tax, "gross_cents": charged + tax})
    return {"lines": priced, "net_cents": sum(p["charged_cents"] for p in priced),
            "tax_cents": sum(p["tax_cents"] for p in priced), "gross_cents": sum(p["gross_cents"] for p in priced)}


@dataclass
class Invoice(Aggregate):
    """What a delivered repair order costs the customer, and what has been paid and credited of it.
    Once issued it is never changed: corrections are credit notes."""

    invoice_id: object
    number: str | None
    repair_order_id: object
    branch_id: str
    customer_id: object
    tax_rate_bp: int
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    covered_cents: int
    issued_at: datetime
    status: str = "issued"
    paid_cents: int = 0
    paid_at: datetime | None = None
    discount_cents: int = 0
    credited_cents: int = 0
    lines: list = field(default_factory=list)

    @classmethod
    def issue(cls, *, invoice_id, repair_order_id, branch_id, customer_id, lines, tax_rate_bp, now,
              approved: dict | None = None, discounts=(), warranty: dict | None = None,
              number: str | None = None) -> "Invoice":
        """The invoice of a delivered repair order's lines. Each line is held to what the customer
        approved (`approved`: line id -> approved cents; None: every line as delivered, for orders
        older than billing's copy of approvals); only customer-pay lines are charged, less their
        discounts; tax is rounded per line. Warranty lines are covered only with an eligible decision
        (`warranty`: line id -> decision); otherwise they stay refused for warranty - charged to
        nobody, claimed from nobody - until the advisor changes them to customer pay."""
        held = [cap_to_approved(line, approved) if approved is not None
                else {**line, "approved_cents": line["net_cents"], "billable_cents": line["net_cents"],
                      "billing_note": None} for line in lines]
        held = [{**line, "billable_cents": line["billable_cents"] if line["pay_type"] == CHARGED else 0}
                for line in held]
        charged = []
        for line in apply_discounts(held, discounts):
            amount = line["billable_cents"] - line["discount_cents"]
            decision = (warranty or {}).get(str(line["line_id"])) if line["pay_type"] == WARRANTY else None
            charged.append({**line, "charged_cents": amount, "tax_cents": line_tax(amount, tax_rate_bp),
                            "warranty_eligible": None if decision is None else decision["eligible"],
                            "warranty_reason": None if decision is None else decision["reason"]})
        subtotal = sum(line["charged_cents"] for line in charged)
        tax = sum(line["tax_cents"] for line in charged)
        covered = sum(min(line["net_cents"], line["approved_cents"] or 0) for line in charged
                      if line["pay_type"] not in (CHARGED, WARRANTY) or line["warranty_eligible"] is True)
        invoice = cls(invoice_id=invoice_id, number=number, repair_order_id=repair_order_id, branch_id=branch_id,
                      customer_id=customer_id, tax_rate_bp=tax_rate_bp, subtotal_cents=subtotal, tax_cents=tax,
                      total_cents=subtotal + tax, covered_cents=covered, issued_at=now,
                      discount_cents=sum(line["discount_cents"] for line in charged), lines=charged)
        return invoice

    def numbered(self, number: str) -> None:
        """The invoice takes its branch number - the last step of issuing - and announces itself."""
        if self.number is not None:
            raise StateConflict("an issued invoice keeps its number", number=f"already {self.number}")
        self.number = number
        self.record("invoice.issued", invoice_id=self.invoice_id, number=number, repair_order_id=self.repair_order_id,
                    customer_id=self.customer_id, subtotal_cents=self.subtotal_cents, tax_cents=self.tax_cents,
                    total_cents=self.total_cents, discount_cents=self.discount_cents)

    @classmethod
    def from_row(cls, row: dict, lines=()) -> "Invoice":
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name not in ("events", "lines")},
                   lines=list(lines))

    @property
    def balance_cents(self) -> int:
        """What the customer still owes: the total less credit notes and net payments (negative: the
        business owes the customer a refund)."""
        return self.total_cents - self.credited_cents - self.paid_cents

    def record_payment(self, *, payment_id, amount_cents: int, method: str, reference: str = "", now) -> dict:
        """Take a payment towards the balance: the payment to store. Nothing may be paid on an
        invoice that owes nothing, nor more than it owes; the payment that settles it marks it paid."""
        balance = self.balance_cents
        if balance <= 0:
            raise StateConflict("the invoice is already paid", amount_cents="nothing is owed")
        if amount_cents > balance:
            raise RuleBroken("the payment is larger than what is owed", amount_cents=f"at most {balance}")
        self.paid_cents += amount_cents
        if self.balance_cents == 0:
            self.status, self.paid_at = "paid", now
            self.record("invoice.paid", invoice_id=self.invoice_id, repair_order_id=self.repair_order_id,
                        customer_id=self.customer_id, amount_cents=self.total_cents, paid_at=now)
        return {"payment_id": payment_id, "invoice_id": self.invoice_id, "branch_id": self.branch_id,
                "amount_cents": amount_cents, "method": method, "reference": reference, "credit_note_id": None}


# -- warranty eligibility (domain.md s6) -----------------------------------------------------------------
# EXCLUSIONS and PERIODS (months and km by what the part is; None: no km limit) are the API's words
# (shared/contracts/api/billing.py). A part's own catalogue terms win.


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day: 31 Jan + 1 = 28 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_terms(line: dict) -> tuple[str, int, int | None]:
    """The period a line's part is covered for: goodwill lines their own; wear parts 6 months; otherwise
    the line's own terms (from the catalogue) or its origin's (OEM unless said otherwise)."""
    if line.get("pay_type") == "goodwill":
        return ("goodwill", *PERIODS["goodwill"])
    if line.get("wear_part"):
        return ("wear", *PERIODS["wear"])
    kind = "alternative" if line.get("origin") in ("alternative", "aftermarket") else "oem"
    months, km = PERIODS[kind]
    if line.get("warranty_months") is not None:
        months, km = line["warranty_months"], line.get("warranty_km")
    return kind, months, km


def warranty_decision(*, line: dict, installed_on: date | None, installed_km: int | None, today: date,
                      odometer_km: int | None, exclusions=()) -> dict:
    """Is this warranty line covered? Decided before the work, with its reason: an exclusion found
    refuses it; otherwise the period runs from the install date to the same day `months` later
    (covered through that day, not after) and the distance from the install odometer may reach the km
    limit exactly but not pass it. Without an install date nothing can be decided: not eligible, and
    the reason says what is missing."""
    kind, months, km = warranty_terms(line)
    found = [e for e in exclusions if e in EXCLUSIONS]
    base = {"terms": kind, "months": months, "km": km, "installed_on": installed_on, "ends_on": None}
    if found:
        return {**base, "eligible": False, "reason": f"excluded: {', '.join(found)}"}
    if installed_on is None:
        return {**base, "eligible": False, "reason": "install date unknown: give installed_on and odometer"}
    ends_on = add_months(installed_on, months)
    base["ends_on"] = ends_on
    if today > ends_on:
        return {**base, "eligible": False, "reason": f"period ended on {ends_on.isoformat()} ({kind}, {months} months)"}
    if km is not None and odometer_km is not None and installed_km is not None and odometer_km - installed_km > km:
        return {**base, "eligible": False,
                "reason": f"over {km} km since installation ({odometer_km - installed_km} km, {kind})"}
    return {**base, "eligible": True, "reason": f"within {kind} terms until {ends_on.isoformat()}"
            + (f" or {km} km" if km is not None else "")}


def installed_parts(invoice: "Invoice", vehicle_id, day: date) -> list[dict]:
    """Billing's warranty register: every part line of the invoice that was approved (whoever pays
    it) installs that part on the vehicle on the delivery day, with its period; a refused line does not."""
    entries = []
    for line in invoice.lines:
        if line["kind"] != "part" or not line.get("part_number") or line.get("approved_cents", 0) is None:
            continue
        kind, months, _ = warranty_terms(line)
        entries.append({"invoice_id": invoice.invoice_id, "line_id": line["line_id"], "branch_id": invoice.branch_id,
                        "customer_id": invoice.customer_id, "vehicle_id": vehicle_id,
                        "part_number": line["part_number"], "terms": kind, "installed_on": day,
                        "ends_on": add_months(day, months)})
    return entries


# CLAIM_STEPS in order, and CLAIM_ENDINGS (ending -> the steps it may follow): shared/contracts/api/billing.py


@dataclass
class WarrantyClaim(Aggregate):
    """The eligible warranty lines of an invoice, claimed from the manufacturer in five steps (domain.md
    s6): fault reproduced -> eligibility checked -> submitted -> parts allocated -> accepted; a submitted
    claim may be rejected (with the reason), an accepted one is then paid."""

    claim_id: object
    repair_order_id: object
    invoice_id: object
    branch_id: str
    value_cents: int
    lines: list
    status: str = "draft"
    steps: list = field(default_factory=list)

    @classmethod
    def of(cls, invoice: Invoice, claim_id) -> "WarrantyClaim | None":
        """The claim for the invoice's warranty lines decided eligible, at their approved net value;
        None when it has none. A line refused (or not yet decided) for warranty is never claimed."""
        warranty = [line for line in invoice.lines if line["pay_type"] == WARRANTY and line.get("warranty_eligible")]
        if not warranty:
            return None
        return cls(claim_id=claim_id, repair_order_id=invoice.repair_order_id, invoice_id=invoice.invoice_id,
                   branch_id=invoice.branch_id,
                   value_cents=sum(min(line["net_cents"], line.get("approved_cents") or line["net_cents"])
                                   for line in warranty),
                   lines=[{k: str(v) if k in ("line_id", "quantity") else v for k, v in line.items()}
                          for line in warranty])  # kept as JSON: ids and decimal quantities as text

    @property
    def step_needed(self) -> str | None:
        """The next of the five steps, or None once accepted (or ended)."""
        if self.status in CLAIM_ENDINGS:
            return None
        done = len(self.steps)
        return CLAIM_STEPS[done] if done < len(CLAIM_STEPS) else None

    def take_step(self, step: str, *, by: str, now, reason: str | None = None) -> None:
        """Record one step of the claim, in order only: a step out of order is refused (409) naming the
        step needed. Rejection needs a reason and is possible once submitted; payment once accepted."""
        if step in CLAIM_ENDINGS:
            if self.status not in CLAIM_ENDINGS[step]:
                raise StateConflict(f"a claim is {step} only after {' or '.join(CLAIM_ENDINGS[step])}",
                                    step=f"the step needed is {self.step_needed or 'none: the claim is ' + self.status}")
            if step == "rejected" and not (reason or "").strip():
                raise RuleBroken("a rejection names its reason", reason="required for a rejection")
        elif step != self.step_needed:
            raise StateConflict("claim steps go in order",
                                step=f"the step needed is {self.step_needed or 'none: the claim is ' + self.status}")
        self.status = step
        self.steps = [*self.steps, {"step": step, "by": by, "at": now.isoformat(), "reason": reason}]
        self.record(f"warranty_claim.{step}", claim_id=self.claim_id, repair_order_id=self.repair_order_id,
                    by=by, reason=reason, value_cents=self.value_cents)


# -- credit notes and their authority (domain.md s6, s7) --------------------------------------------------
# cents a complaint's level may credit; None: up to the invoice's full amount. Per group, admin-set.
DEFAULT_AUTHORITY = {1: 10_000, 2: 50_000, 3: None}


def level_needed(amount_cents: int, limits: dict, invoice_total: int) -> int | None:
    """The lowest level whose authority covers `amount_cents` (None: no level may)."""
    for level in sorted(limits):
        limit = invoice_total if limits[level] is None else limits[level]
        if amount_cents <= limit:
            return level
    return None


@dataclass
class CreditNote(Aggregate):
    """A refund or compensation against an invoice, linked to a complaint and within the authority of
    the complaint's level; never more than the invoice's total less earlier credit notes. Refunds of
    it are negative payments, never more than its amount less refunds already made."""

    credit_note_id: object
    number: str | None
    invoice_id: object
    complaint_id: object
    branch_id: str
    customer_id: object
    amount_cents: int
    kind: str
    reason: str
    level: int
    created_by: str
    refunded_cents: int = 0

    @classmethod
    def issue(cls, *, credit_note_id, invoice: dict, complaint: dict | None, amount_cents: int, kind: str,
              reason: str, limits: dict, created_by: str) -> "CreditNote":
        if complaint is None:
            raise RuleBroken("billing has not heard of that complaint",
                             complaint_id="unknown complaint (crm's complaint.opened not received)")
        if str(complaint["customer_id"]) != str(invoice["customer_id"]):
            raise RuleBroken("the complaint is another customer's", complaint_id="not this invoice's customer")
        level = complaint["level"]
        limit = invoice["total_cents"] if limits.get(level) is None else limits[level]
        if amount_cents > limit:
            needed = level_needed(amount_cents, limits, invoice["total_cents"])
            raise RuleBroken(f"above the authority of level {level}",
                             amount_cents=f"level {level} may credit at most {limit};"
                             + (f" level {needed} is needed" if needed else " no level may"))
        left = invoice["total_cents"] - invoice["credited_cents"]
        if amount_cents > left:
            raise RuleBroken("more than the invoice has left to credit", amount_cents=f"at most {left}")
        note = cls(credit_note_id=credit_note_id, number=None, invoice_id=invoice["invoice_id"],
                   complaint_id=complaint["complaint_id"], branch_id=invoice["branch_id"],
                   customer_id=invoice["customer_id"], amount_cents=amount_cents, kind=kind, reason=reason,
                   level=level, created_by=created_by)
        return note

    def numbered(self, number: str) -> None:
        self.number = number
        self.record("credit_note.issued", credit_note_id=self.credit_note_id, number=number,
                    invoice_id=self.invoice_id, complaint_id=self.complaint_id, customer_id=self.customer_id,
                    amount_cents=self.amount_cents, kind=self.kind, level=self.level)

    def refund(self, invoice: Invoice, *, payment_id, amount_cents: int, method: str, reference: str = "") -> dict:
        """Pay (part of) the credit note back: a negative payment on its invoice. Never more than the
        note's amount less earlier refunds, nor more than the invoice owes the customer back (what was
        paid and credited beyond its total): a refund never makes the customer owe again."""
        left = self.amount_cents - self.refunded_cents
        if amount_cents > left:
            raise RuleBroken("more than the credit note has left to refund", amount_cents=f"at most {left}")
        owed_back = -invoice.balance_cents  # paid and credited beyond the total
        if amount_cents > owed_back:
            raise RuleBroken("more than the customer is owed back on the invoice",
                             amount_cents=f"at most {max(owed_back, 0)}")
        self.refunded_cents += amount_cents
        invoice.paid_cents -= amount_cents
        self.record("credit_note.refunded", credit_note_id=self.credit_note_id, invoice_id=self.invoice_id,
                    customer_id=self.customer_id, amount_cents=amount_cents, method=method)
        return {"payment_id": payment_id, "invoice_id": invoice.invoice_id, "branch_id": invoice.branch_id,
                "amount_cents": -amount_cents, "method": method, "reference": reference,
                "credit_note_id": self.credit_note_id}

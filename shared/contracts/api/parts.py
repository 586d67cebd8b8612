"""What parts takes and gives, and the words it uses (services/parts/domain.py, transfers.py and ledger.py
import them from here)."""
from marshmallow import fields, validate

from shared.contracts.schemas import ListQuery, StatusListQuery, Out, Strict, aware_datetime, money, status_filter, text

RESERVATION_STATUSES = ("held", "consumed", "released")  # reservations_status_check
ORIGINS = ("oem", "alternative")
# the life cycles in their order (TRANSFER in services/parts/transfers.py, PURCHASE_ORDER in ledger.py;
# unit tests keep them equal)
TRANSFER_STATUSES = ("requested", "approved", "picked", "dispatched", "received", "closed", "cancelled")
PURCHASE_ORDER_STATUSES = ("open", "received", "cancelled")
# why units sent never arrived: the receiving branch says which when it writes them off
WRITE_OFF_REASONS = ("lost_in_transit", "damaged_in_transit", "wrong_part_sent", "short_shipped")
# an adjustment's reason -> the sign its quantity must have: +1 only up, -1 only down, 0 either way
ADJUSTMENT_REASONS = {
    "damaged": -1,
    "lost": -1,
    "stolen": -1,
    "expired": -1,
    "returned_to_supplier": -1,
    "found": 1,
    "correction": 0,
}

PART_NUMBER = validate.Regexp(r"^[A-Z0-9][A-Z0-9._/-]{1,39}$", error="capitals, digits and . _ / -; 2 to 40 long")
BRANCH = validate.Length(min=1, max=40)


class NewPart(Strict):
    part_number = fields.String(required=True, validate=PART_NUMBER)
    description = text(required=True, max_length=200)
    origin = fields.String(required=True, validate=validate.OneOf(ORIGINS))
    price_cents = money(required=True)
    # catalogue: left out, the warranty is the rule's by kind (catalogue.warranty_terms);
    # given, the supplier's own terms, km as given
    warranty_months = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=validate.Range(min=0, max=240))
    warranty_km = fields.Integer(strict=True, load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, max=1_000_000))
    wear_part = fields.Boolean(load_default=False)


class Fitment(Out):  # catalogue: a model a part fits
    part_number = fields.String()
    make = fields.String()
    model = fields.String()
    year_from = fields.Integer()
    year_to = fields.Integer(allow_none=True)
    created_at = aware_datetime()


class Part(Out):
    part_number = fields.String()
    description = fields.String()
    origin = fields.String()
    price_cents = fields.Integer()
    warranty_months = fields.Integer()
    warranty_km = fields.Integer(allow_none=True)
    wear_part = fields.Boolean()  # catalogue
    warranty_source = fields.String()  # rule | supplier
    fitments = fields.List(fields.Nested(Fitment))  # with one part's answer
    created_at = aware_datetime()
    updated_at = aware_datetime()


class Receipt(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))
    reference = fields.String(load_default="", validate=validate.Length(max=120))
    # ledger: a receipt against a purchase order (on hand up, on order down; never more than outstanding)
    purchase_order_id = fields.UUID(load_default=None, allow_none=True)


class Thresholds(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    reorder_point = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=100_000))
    safety_stock = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=100_000))


class Stock(Out):
    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    part_number = fields.String()
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()
    in_transit = fields.Integer()
    on_order = fields.Integer()  # ledger: ordered from the supplier, not received yet
    reorder_point = fields.Integer(allow_none=True)
    safety_stock = fields.Integer(allow_none=True)
    below_reorder = fields.Boolean()
    below_safety = fields.Boolean()  # below the safety stock (the louder alert)


class PartQuery(Strict):
    q = fields.String(validate=validate.Length(min=1, max=80))
    # catalogue: parts that fit a make, model and model year (make and model without regard to case)
    fits_make = fields.String(validate=validate.Length(min=1, max=60))
    fits_model = fields.String(validate=validate.Length(min=1, max=60))
    fits_year = fields.Integer(validate=validate.Range(min=1900, max=2100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StockQuery(ListQuery):
    part_number = fields.String(validate=validate.Length(min=1, max=40))
    below_reorder = fields.Boolean(metadata={"description": "true: shelves whose available stock is below their"
                                                            " reorder point"})
    below_safety = fields.Boolean(metadata={"description": "true: shelves whose available stock is below their"
                                                           " safety stock (a shelf with a reorder point and a"
                                                           " safety stock above 0)"})


class ReservationQuery(StatusListQuery):
    status = status_filter(RESERVATION_STATUSES)
    repair_order_id = fields.UUID()


class MovementQuery(ListQuery):
    part_number = fields.String(validate=validate.Length(min=1, max=40))


class TransferQuery(StatusListQuery):
    """branch_id (and the scope's branch_ids) match a transfer's either side: sending or receiving."""

    status = status_filter(sorted(TRANSFER_STATUSES))
    part_number = fields.String(validate=validate.Length(min=1, max=40))


class Reservation(Out):
    reservation_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    part_number = fields.String()
    quantity = fields.Integer()
    status = fields.String()
    created_at = aware_datetime()


class Movement(Out):
    id = fields.Integer()
    branch_id = fields.String()
    part_number = fields.String()
    kind = fields.String()
    quantity = fields.Integer()
    repair_order_id = fields.UUID(allow_none=True)
    transfer_id = fields.UUID(allow_none=True)
    reference = fields.String()
    purchase_order_id = fields.UUID(allow_none=True)  # ledger: the purchase order it moves
    created_at = aware_datetime()


class TransferRequest(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)  # the branch that needs the parts
    from_branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10_000))
    repair_order_id = fields.UUID(load_default=None, allow_none=True)
    acted_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class TransferStep(Strict):
    status = fields.String(required=True, validate=validate.OneOf(sorted(TRANSFER_STATUSES)))
    # units arriving with this receipt (all still in transit when not given); a transfer may be
    # received in several parts, never more than was sent
    received_quantity = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=10_000))
    tracking_reference = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    acted_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class TransferTracking(Strict):
    """The carrier's tracking reference, sent by the dispatching branch (within 30 minutes of dispatch)."""

    tracking_reference = fields.String(required=True, validate=validate.Length(min=1, max=80))
    acted_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class TransferWriteOff(Strict):
    """Units that will never arrive, taken out of transit by the receiving branch with the reason."""

    reason = fields.String(required=True, validate=validate.OneOf(WRITE_OFF_REASONS))
    # all still in transit when not given
    quantity = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=10_000))
    acted_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class TransferHistoryStep(Out):
    step = fields.String()
    acted_by = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    at = aware_datetime()


class Transfer(Out):
    transfer_id = fields.UUID()
    branch_id = fields.String()
    from_branch_id = fields.String()
    part_number = fields.String()
    quantity = fields.Integer()
    received_quantity = fields.Integer()
    status = fields.String()
    repair_order_id = fields.UUID(allow_none=True)
    tracking_reference = fields.String(allow_none=True)
    written_off_quantity = fields.Integer()
    in_transit = fields.Integer(metadata={"description": "units dispatched, neither received nor written off"})
    dispatched_at = aware_datetime(allow_none=True)
    from_site = fields.String(allow_none=True, metadata={
        "description": "the sending branch's site, when the two branches are at two sites (docs/sites.md)"})
    to_site = fields.String(allow_none=True, metadata={"description": "the receiving branch's site, likewise"})
    steps = fields.List(fields.Nested(TransferHistoryStep), metadata={
        "description": "every step with who did it and when (in the answer for one transfer)"})
    created_at = aware_datetime()
    updated_at = aware_datetime()


# -- donors across the group ---------------------------------------------------------------------------------------
class GroupStockQuery(Strict):
    part_number = fields.String(required=True, validate=PART_NUMBER)


class GroupShelf(Out):
    """One branch's stock of a part as every coordinator of the group sees it: figures only."""

    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    available = fields.Integer()
    safety_stock = fields.Integer(allow_none=True)
    can_give = fields.Integer()
    site = fields.String(allow_none=True, metadata={
        "description": "the branch's site when it is another site's (docs/sites.md); none for this site's"})
    as_of = aware_datetime(allow_none=True, metadata={"description": "another site's figures: their time"})
    age_seconds = fields.Float(allow_none=True, metadata={"description": "another site's figures: their age"})
    stale = fields.Boolean(metadata={
        "description": "another site's figures older than PITLANE_REMOTE_FIGURES_MAX_AGE: never proposed"})


class DonorQuery(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)  # the branch short of the part
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


class Donor(GroupShelf):
    lead_time_hours = fields.Integer()
    same_region = fields.Boolean()
    enough = fields.Boolean()


class Proposal(Out):
    kind = fields.String()  # transfer | purchase
    from_branch_id = fields.String(allow_none=True)
    quantity = fields.Integer()
    lead_time_hours = fields.Integer()


class DonorRanking(Out):
    branch_id = fields.String()
    part_number = fields.String()
    quantity = fields.Integer()
    donors = fields.List(fields.Nested(Donor))
    proposal = fields.Nested(Proposal)


class LeadTimeEntry(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(("branch", "region", "purchase")))
    from_id = fields.String(load_default="*", validate=BRANCH)
    to_id = fields.String(load_default="*", validate=BRANCH)
    hours = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=24 * 90))


class LeadTime(Out):
    kind = fields.String()
    from_id = fields.String()
    to_id = fields.String()
    hours = fields.Integer()
    updated_at = aware_datetime()


# -- catalogue: substitutes and fitment -------------------------------------------------------------
YEAR = validate.Range(min=1900, max=2100)


class NewSubstitute(Strict):
    substitute_part_number = fields.String(required=True, validate=PART_NUMBER)
    differences = text(required=True, max_length=500)  # how it differs from the part: the advisor says so
    both_ways = fields.Boolean(load_default=False)  # the part may stand in for the substitute too


class SubstituteQuery(Strict):
    branch_id = fields.String(validate=BRANCH)  # with it, what the branch has of each substitute


class Substitute(Out):
    """An approved substitute of a part: what it is, its terms and price, how it differs, and with a
    branch, what is available there (null without one)."""

    part_number = fields.String()  # the substitute's
    substitute_for = fields.String()  # the part it may stand in for
    description = fields.String()
    origin = fields.String()
    wear_part = fields.Boolean()
    warranty_months = fields.Integer()
    warranty_km = fields.Integer(allow_none=True)
    price_cents = fields.Integer()
    differences = fields.String()
    branch_id = fields.String(allow_none=True)
    available = fields.Integer(allow_none=True)
    created_at = aware_datetime()


class NewFitment(Strict):
    make = text(required=True, max_length=60)
    model = text(required=True, max_length=60)
    year_from = fields.Integer(strict=True, required=True, validate=YEAR)
    year_to = fields.Integer(strict=True, load_default=None, allow_none=True, validate=YEAR)  # null: still fits



# -- ledger: adjustments, counts, purchase orders, the service desk's outlook ------------------
class Adjustment(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    # signed: + adds units to the shelf, - takes them (never reserved ones); not 0
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=-100_000, max=100_000))
    reason = fields.String(required=True, validate=validate.OneOf(sorted(ADJUSTMENT_REASONS)))
    note = fields.String(load_default="", validate=validate.Length(max=200))


class StockCount(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    counted_quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=1_000_000))


class CountResult(Stock):
    counted_quantity = fields.Integer()
    difference = fields.Integer()  # counted less what was on hand: the count movement's quantity


class NewPurchaseOrder(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))
    expected_at = aware_datetime(load_default=None, allow_none=True)  # default: the group's purchase lead time
    repair_order_id = fields.UUID(load_default=None, allow_none=True)
    supplier_reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class PurchaseOrderCancellation(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class PurchaseOrderQuery(StatusListQuery):
    status = status_filter(PURCHASE_ORDER_STATUSES)
    part_number = fields.String(validate=validate.Length(min=1, max=40))


class PurchaseOrder(Out):
    purchase_order_id = fields.UUID()
    branch_id = fields.String()
    part_number = fields.String()
    quantity = fields.Integer()
    received_quantity = fields.Integer()
    cancelled_quantity = fields.Integer()
    outstanding = fields.Integer()
    status = fields.String()
    expected_at = aware_datetime()
    repair_order_id = fields.UUID(allow_none=True)
    supplier_reference = fields.String(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()


class OutlookQuery(Strict):
    part_number = fields.String(required=True, validate=PART_NUMBER)
    branch_id = fields.String(validate=BRANCH)  # one branch only; the whole group when not given
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))  # units the customer needs


class InTransit(Out):
    transfer_id = fields.UUID()
    from_branch_id = fields.String()
    quantity = fields.Integer()
    eta = aware_datetime()


class OnOrder(Out):
    purchase_order_id = fields.UUID()
    quantity = fields.Integer()
    expected_at = aware_datetime()


class OutlookBranch(Out):
    """One branch's figures for a part: free now, on the road to it, on order for it (no customer or order)."""

    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    available = fields.Integer()
    in_transit_quantity = fields.Integer()
    on_order_quantity = fields.Integer()
    in_transit = fields.List(fields.Nested(InTransit))
    on_order = fields.List(fields.Nested(OnOrder))
    earliest_at = aware_datetime(allow_none=True)  # when it has `quantity` free; null: not with what is coming


class Outlook(Out):
    part_number = fields.String()
    quantity = fields.Integer()
    branches = fields.List(fields.Nested(OutlookBranch))


# -- thresholds, replenishment and shortage escalation ----------------------------------------------------
class ReplenishmentQuery(StatusListQuery):
    """audience: purchasing (purchase proposals for its branches), warehouse (transfers its branch is to
    give or receive), desk (everything for its branch, the default)."""

    status = status_filter(("proposed", "accepted", "dismissed", "superseded"))
    audience = fields.String(load_default="desk", validate=validate.OneOf(("purchasing", "warehouse", "desk")))
    part_number = fields.String(validate=validate.Length(min=1, max=40))


class ReplenishmentDecision(Strict):
    acted_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class Replenishment(Out):
    replenishment_id = fields.UUID()
    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    part_number = fields.String()
    alert = fields.String()  # reorder_point | safety_stock
    kind = fields.String()  # transfer | purchase
    from_branch_id = fields.String(allow_none=True)
    quantity = fields.Integer()
    lead_time_hours = fields.Integer()
    available = fields.Integer()
    incoming = fields.Integer()
    target = fields.Integer()
    status = fields.String()
    transfer_id = fields.UUID(allow_none=True)
    purchase_order_id = fields.UUID(allow_none=True)
    accepted_by = fields.String(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()


class ShortageQuery(StatusListQuery):
    status = status_filter(("open", "served", "cancelled"))


class ShortageProposal(Out):
    part_number = fields.String()
    quantity = fields.Integer()
    kind = fields.String()  # transfer | purchase
    from_branch_id = fields.String(allow_none=True)
    lead_time_hours = fields.Integer()


class ShortageAction(Out):
    kind = fields.String()  # transfer | purchase
    reference = fields.String()  # the transfer's (or purchase order's) id
    part_number = fields.String()
    quantity = fields.Integer()
    from_branch_id = fields.String(allow_none=True)
    tier = fields.String()
    at = fields.String()


class Shortage(Out):
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    status = fields.String()
    tier = fields.String()  # local | region | group
    tier_since = aware_datetime()
    deadline = aware_datetime(allow_none=True)  # the tier's clock, while it runs
    clock_state = fields.String(allow_none=True)
    clock_outcome = fields.String(allow_none=True)
    waiting_since = aware_datetime()
    needs = fields.Dict(keys=fields.String(), values=fields.Integer())
    proposal = fields.List(fields.Nested(ShortageProposal))
    actions = fields.List(fields.Nested(ShortageAction))


class LedgerFigures(Out):
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()
    in_transit = fields.Integer()
    on_order = fields.Integer()


class LedgerCheck(Out):
    """A stock row against what its movements add up to."""

    branch_id = fields.String()
    part_number = fields.String()
    stock = fields.Nested(LedgerFigures)
    ledger = fields.Nested(LedgerFigures)
    agrees = fields.Boolean()

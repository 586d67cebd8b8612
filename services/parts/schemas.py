"""What parts takes and gives."""
from marshmallow import fields, validate

from services.parts import domain
from shared.contracts.schemas import ListQuery, StatusListQuery, Out, Strict, aware_datetime, money, status_filter, text

RESERVATION_STATUSES = ("held", "consumed", "released")  # reservations_status_check

PART_NUMBER = validate.Regexp(r"^[A-Z0-9][A-Z0-9._/-]{1,39}$", error="capitals, digits and . _ / -; 2 to 40 long")
BRANCH = validate.Length(min=1, max=40)


class NewPart(Strict):
    part_number = fields.String(required=True, validate=PART_NUMBER)
    description = text(required=True, max_length=200)
    origin = fields.String(required=True, validate=validate.OneOf(domain.ORIGINS))
    price_cents = money(required=True)
    warranty_months = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=240))
    warranty_km = fields.Integer(strict=True, load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, max=1_000_000))


class Part(Out):
    part_number = fields.String()
    description = fields.String()
    origin = fields.String()
    price_cents = fields.Integer()
    warranty_months = fields.Integer()
    warranty_km = fields.Integer(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()


class Receipt(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))
    reference = fields.String(load_default="", validate=validate.Length(max=120))


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
    reorder_point = fields.Integer(allow_none=True)
    safety_stock = fields.Integer(allow_none=True)
    below_reorder = fields.Boolean()


class PartQuery(Strict):
    q = fields.String(validate=validate.Length(min=1, max=80))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StockQuery(ListQuery):
    part_number = fields.String(validate=validate.Length(min=1, max=40))
    below_reorder = fields.Boolean()


class ReservationQuery(StatusListQuery):
    status = status_filter(RESERVATION_STATUSES)
    repair_order_id = fields.UUID()


class MovementQuery(ListQuery):
    part_number = fields.String(validate=validate.Length(min=1, max=40))


class TransferQuery(StatusListQuery):
    """branch_id (and the scope's branch_ids) match a transfer's either side: sending or receiving."""

    status = status_filter(sorted(domain.TRANSFER.statuses))
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
    created_at = aware_datetime()


class TransferRequest(Strict):
    branch_id = fields.String(required=True, validate=BRANCH)  # the branch that needs the parts
    from_branch_id = fields.String(required=True, validate=BRANCH)
    part_number = fields.String(required=True, validate=PART_NUMBER)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10_000))
    repair_order_id = fields.UUID(load_default=None, allow_none=True)


class TransferStep(Strict):
    status = fields.String(required=True, validate=validate.OneOf(sorted(domain.TRANSFER.statuses)))
    # units arriving with this receipt (all still in transit when not given); a transfer may be
    # received in several parts, never more than was sent
    received_quantity = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=10_000))
    tracking_reference = fields.String(load_default=None, validate=validate.Length(min=1, max=80))


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

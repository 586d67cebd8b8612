"""The repair order's rules (services/workshop/domain.py), one test per rule: no broker, no database."""
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.workshop.domain import (
    LIFE_CYCLE, Job, Note, Quote, RepairOrder, net_cents, price_line, remaining_work_seconds)
from shared.domain import IllegalTransition, RuleBroken, StateConflict, UnknownRecord

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
CONSENT = {"method": "signature", "by": "Ada Example"}
FINDINGS = [{"code": None, "description": "front pads at 2 mm", "status": "red"}]


def line(kind="labour", net=9500, **extra):
    return {"line_id": uuid.uuid4(), "kind": kind, "group": "must", "description": kind, "part_number": None,
            "quantity": Decimal("1"), "unit_price_cents": net, "net_cents": net, "pay_type": "customer", **extra}


def order(status="checked_in", jobs=(), quote=None, **fields) -> RepairOrder:
    return RepairOrder(uuid.uuid4(), "B1", "RO-B1-000001", uuid.uuid4(), uuid.uuid4(), fields.pop("priority", "routine"),
                       status, jobs=list(jobs), open_quote=quote, **fields)


def job(technician="tech-1", started=T0, finished=None) -> Job:
    return Job(uuid.uuid4(), technician, started, finished_at=finished,
               clocked_seconds=None if finished is None else int((finished - started).total_seconds()))


def quoted(*lines) -> RepairOrder:
    return order("awaiting_approval", quote=Quote(uuid.uuid4(), list(lines or [line()])))


PROGRESS = {"repair_order.progress", "progress.due", "progress.not_due"}  # the customer's updates: test_progress.py


def types(ro: RepairOrder) -> list[str]:
    return [e.type for e in ruled(ro)]


def ruled(ro: RepairOrder) -> list:
    """The events a rule recorded, the customer's progress updates aside."""
    return [e for e in ro.events if e.type not in PROGRESS]


def all_approved(quote: Quote) -> list[dict]:
    return [{"line_id": l["line_id"], "approved": True} for l in quote.lines]


# -- the life cycle --------------------------------------------------------------------------------------
def test_every_status_but_closed_and_cancelled_has_a_way_out():
    ends = {s for s in LIFE_CYCLE.statuses if not LIFE_CYCLE.allowed(s) - {s}}
    assert ends == {"closed", "cancelled"}


def test_a_status_change_is_noted_for_the_staff_and_a_new_stage_for_the_customer():
    ro = order()
    ro.record_diagnosis(FINDINGS, "tina")
    ro.record_diagnosis(FINDINGS, "tom")
    assert ro.take_notes() == [Note("diagnosed", "diagnosed by tina"), Note("diagnosed", public=True),
                               Note("diagnosed", "diagnosed by tom")]
    assert ro.notes == []


def test_a_check_in_opens_the_repair_order():
    ro = order(booking_id=uuid.uuid4(), plate="B AB 1")
    ro.opened("sam")
    assert ro.notes == [Note("checked_in", "received by sam"), Note("checked_in", public=True)]
    (opened,) = ruled(ro)
    assert opened.type == "repair_order.opened" and opened.branch_id == "B1"
    assert opened.facts["plate"] == "B AB 1" and opened.facts["booking_id"] == ro.booking_id


# -- diagnosis --------------------------------------------------------------------------------------------
def test_a_diagnosis_records_its_findings():
    ro = order()
    assert ro.record_diagnosis(FINDINGS, "tina") is None
    assert ro.status == "diagnosed"
    assert [(e.type, e.facts["findings"]) for e in ruled(ro)] == [("diagnosis.recorded", FINDINGS)]


def test_a_new_finding_while_a_quote_awaits_approval_withdraws_the_quote():
    ro = quoted()
    quote = ro.open_quote
    withdrawn = ro.record_diagnosis(FINDINGS, "tina")
    assert withdrawn is quote and quote.status == "withdrawn" and ro.open_quote is None
    assert ro.status == "diagnosed"
    assert types(ro) == ["diagnosis.recorded", "quote.withdrawn"]
    facts = ro.recorded("quote.withdrawn")[0].facts
    assert facts["quote_id"] == quote.quote_id and facts["repair_order_id"] == ro.repair_order_id and facts["reason"]
    ro.issue_quote(uuid.uuid4(), [line()], 9500, {})  # a new quote can be issued
    assert ro.status == "awaiting_approval"


@pytest.mark.parametrize("status", ["approved", "waiting_for_parts", "in_progress", "on_hold", "quality_check",
                                    "ready"])
def test_a_new_finding_after_approval_needs_a_supplement(status):
    ro = order(status)
    with pytest.raises(StateConflict, match="supplement"):
        ro.record_diagnosis(FINDINGS, "tina")
    assert ro.status == status and ro.events == [] and ro.notes == []


@pytest.mark.parametrize("status", ["delivered", "cancelled"])
def test_a_closed_order_takes_no_diagnosis(status):
    with pytest.raises(IllegalTransition):
        order(status).record_diagnosis(FINDINGS, "tina")


# -- quote and prices -----------------------------------------------------------------------------------
def test_a_line_without_a_price_takes_the_branch_rate_or_the_catalogue_price():
    labour = price_line({"kind": "labour", "quantity": Decimal("1.5")}, 9500, {})
    part = price_line({"kind": "part", "part_number": "P1", "quantity": Decimal("2")}, 9500, {"P1": 8900})
    given = price_line({"kind": "part", "part_number": "P1", "quantity": Decimal("1"), "unit_price_cents": 100},
                       9500, {"P1": 8900})
    assert (labour["net_cents"], part["net_cents"], given["net_cents"]) == (14250, 17800, 100)


def test_a_net_amount_is_rounded_half_up_to_the_cent():
    assert net_cents(Decimal("0.5"), 1) == 1 and net_cents(Decimal("0.3"), 5) == 2


def test_a_part_not_in_the_catalogue_or_a_consumable_needs_a_given_price():
    with pytest.raises(RuleBroken) as unknown:
        price_line({"kind": "part", "part_number": "NOPE", "quantity": Decimal("1")}, 9500, {})
    assert "lines" in unknown.value.fields
    with pytest.raises(RuleBroken):
        price_line({"kind": "consumable", "quantity": Decimal("1")}, 9500, {})


def test_a_quote_prices_its_lines_and_waits_for_approval():
    ro = order("diagnosed")
    quote, superseded = ro.issue_quote(uuid.uuid4(), [{"kind": "labour", "quantity": Decimal("1")},
                                                      {"kind": "consumable", "quantity": Decimal("2"),
                                                       "unit_price_cents": 250}], 9500, {})
    assert superseded is None and ro.open_quote is quote and quote.total_cents == 10000
    assert ro.status == "awaiting_approval"
    assert ro.recorded("quote.issued")[0].facts["total_cents"] == 10000


def test_a_new_quote_supersedes_the_open_one():
    ro = quoted()
    old = ro.open_quote
    new, superseded = ro.issue_quote(uuid.uuid4(), [line()], 9500, {})
    assert superseded is old and old.status == "superseded" and ro.open_quote is new


def test_an_order_past_approval_cannot_be_quoted():
    with pytest.raises(StateConflict, match="cannot be quoted"):
        order("approved").issue_quote(uuid.uuid4(), [line()], 9500, {})


# -- approval ---------------------------------------------------------------------------------------------
def test_every_line_of_a_quote_is_decided_exactly_once():
    first, second = line(), line()
    ro = quoted(first, second)
    stranger = uuid.uuid4()
    with pytest.raises(RuleBroken) as refused:
        ro.approve(ro.open_quote.quote_id, [{"line_id": first["line_id"], "approved": True},
                                            {"line_id": first["line_id"], "approved": False},
                                            {"line_id": stranger, "approved": True}], CONSENT)
    problems = refused.value.fields["decisions"]
    assert any("twice" in p for p in problems) and any(str(stranger) in p for p in problems)
    assert any(str(second["line_id"]) in p for p in problems)
    assert ro.status == "awaiting_approval" and ro.events == []


def test_only_the_open_quote_can_be_approved():
    ro = quoted()
    with pytest.raises(StateConflict):
        ro.approve(uuid.uuid4(), all_approved(ro.open_quote), CONSENT)


def test_an_approval_publishes_the_order_priority_and_the_approved_total():
    labour, part, wipers = line(net=14250), line("part", 8900, part_number="P1"), line(net=2850)
    ro = quoted(labour, part, wipers)
    ro.priority = "safety_critical"
    decisions = [{"line_id": labour["line_id"], "approved": True}, {"line_id": part["line_id"], "approved": True},
                 {"line_id": wipers["line_id"], "approved": False}]
    quote, approved = ro.approve(ro.open_quote.quote_id, decisions, CONSENT)
    assert quote.status == "approved" and approved == [labour, part]
    assert ro.status == "approved" and ro.approved_total_cents == 23150
    facts = ro.recorded("quote.approved")[0].facts
    assert facts["priority"] == "safety_critical" and facts["declined_line_ids"] == [wipers["line_id"]]
    assert facts["approved_total_cents"] == 23150 and facts["approved_lines"] == [labour, part]


def test_approved_part_lines_wait_for_parts_to_reserve_them():
    with_part = quoted(line("part", 8900, part_number="P1"))
    with_part.approve(with_part.open_quote.quote_id, all_approved(with_part.open_quote), CONSENT)
    labour_only = quoted(line())
    labour_only.approve(labour_only.open_quote.quote_id, all_approved(labour_only.open_quote), CONSENT)
    assert (with_part.parts_status, labour_only.parts_status) == ("pending", "none")


def test_declining_every_line_sends_the_order_back_to_diagnosed():
    ro = quoted()
    quote, approved = ro.approve(ro.open_quote.quote_id,
                                 [{"line_id": l["line_id"], "approved": False} for l in ro.open_quote.lines], CONSENT)
    assert approved == [] and quote.status == "declined" and ro.status == "diagnosed"
    assert types(ro) == ["quote.declined"] and ro.approved_total_cents == 0


# -- parts ------------------------------------------------------------------------------------------------
def test_a_shortage_puts_an_approved_order_on_hold_for_parts():
    ro = order("approved", parts_status="pending")
    assert ro.parts_short([{"part_number": "P1", "available": 0, "requested": 1}])
    assert (ro.status, ro.parts_status) == ("waiting_for_parts", "short")
    assert [(e.type, e.facts["reason"]) for e in ruled(ro)] == [("repair_order.on_hold", "parts")]


def test_a_shortage_for_an_order_that_moved_on_changes_nothing():
    ro = order("cancelled", parts_status="pending")
    assert not ro.parts_short([{"part_number": "P1", "available": 0, "requested": 1}])
    assert ro.parts_status == "pending" and ro.events == []


def test_a_shortage_that_arrives_after_its_reservation_changes_nothing():
    ro = order("approved", parts_status="pending")
    assert ro.parts_reserved()  # served a moment after it was found short; the reservation came first
    assert not ro.parts_short([{"part_number": "P1", "available": 0, "requested": 1}])
    assert (ro.status, ro.parts_status) == ("approved", "reserved")
    assert types(ro) == []


def test_parts_arriving_resume_an_order_waiting_for_them():
    ro = order("waiting_for_parts", parts_status="short")
    assert ro.parts_reserved()
    assert (ro.status, ro.parts_status) == ("approved", "reserved")
    assert [(e.type, e.facts["reason"]) for e in ruled(ro)] == [("repair_order.resumed", "parts")]


def test_parts_reserved_for_a_cancelled_order_change_nothing():
    ro = order("cancelled", parts_status="pending")
    assert not ro.parts_reserved()
    assert ro.parts_status == "pending" and ro.events == []


# -- jobs and holds -----------------------------------------------------------------------------------------
def test_no_job_starts_before_the_approved_parts_are_reserved():
    with pytest.raises(StateConflict) as refused:
        order("approved", parts_status="pending").start_job(uuid.uuid4(), "tech-1", "", T0)
    assert "parts_status" in refused.value.fields


def test_the_first_job_starts_the_work():
    ro = order("approved", parts_status="reserved")
    started = ro.start_job(uuid.uuid4(), "tech-1", "pads", T0)
    assert ro.status == "in_progress" and ro.jobs == [started] and started.started_at == T0
    assert types(ro) == ["job.started"]


def test_no_job_starts_before_approval():
    with pytest.raises(IllegalTransition):
        order("diagnosed").start_job(uuid.uuid4(), "tech-1", "", T0)


def test_starting_a_job_on_an_order_on_hold_resumes_it():
    ro = order("on_hold", jobs=[job()])
    ro.start_job(uuid.uuid4(), "tech-2", "", T0 + timedelta(hours=1))
    assert ro.status == "in_progress"
    assert types(ro) == ["repair_order.resumed", "job.started"]


def test_finishing_the_last_open_job_sends_the_work_to_the_quality_check():
    first, second = job("tech-1"), job("tech-2")
    ro = order("in_progress", jobs=[first, second])
    ro.finish_job(first.job_id, "", T0 + timedelta(minutes=30))
    assert ro.status == "in_progress"
    finished = ro.finish_job(second.job_id, "done", T0 + timedelta(hours=1, seconds=0.5))
    assert ro.status == "quality_check" and finished.clocked_seconds == 3601 and finished.notes == "done"
    assert ro.recorded("job.finished")[-1].facts["clocked_seconds"] == 3601


def test_a_job_is_finished_once():
    done = job(finished=T0 + timedelta(hours=1))
    with pytest.raises(StateConflict):
        order("quality_check", jobs=[done]).finish_job(done.job_id, "", T0 + timedelta(hours=2))


def test_a_job_of_another_order_is_unknown():
    with pytest.raises(UnknownRecord):
        order("in_progress", jobs=[job()]).finish_job(uuid.uuid4(), "", T0)


def test_finishing_the_last_job_on_hold_leaves_the_order_on_hold():
    running = job()
    ro = order("on_hold", jobs=[running])
    ro.finish_job(running.job_id, "", T0 + timedelta(hours=1))
    assert ro.status == "on_hold" and not running.open


def test_work_is_put_on_hold_with_its_reason():
    ro = order("in_progress", jobs=[job()])
    ro.hold("sublet", T0 + timedelta(hours=1))
    assert ro.status == "on_hold"
    assert [(e.type, e.facts["reason"]) for e in ro.recorded("repair_order.on_hold")] == [
        ("repair_order.on_hold", "sublet")]


def test_a_resumed_order_with_its_work_done_goes_to_the_quality_check():
    ro = order("on_hold", jobs=[job(finished=T0 + timedelta(hours=1))])
    ro.resume()
    assert ro.status == "quality_check"
    assert types(ro) == ["repair_order.resumed"]  # the repair-promise clock runs again


def test_a_resumed_order_with_an_open_job_goes_back_to_work():
    ro = order("on_hold", jobs=[job(finished=T0 + timedelta(hours=1)), job("tech-2")])
    ro.resume()
    assert ro.status == "in_progress" and types(ro) == ["repair_order.resumed"]


def test_a_resumed_order_whose_rework_is_due_goes_back_to_work():
    ro = order("on_hold", jobs=[job(finished=T0 + timedelta(hours=1))], failed_check_at=T0 + timedelta(hours=2))
    ro.resume()
    assert ro.status == "in_progress"
    reworked = order("on_hold", jobs=[job(finished=T0 + timedelta(hours=1)),
                                      job(started=T0 + timedelta(hours=3), finished=T0 + timedelta(hours=4))],
                     failed_check_at=T0 + timedelta(hours=2))
    reworked.resume()
    assert reworked.status == "quality_check"


@pytest.mark.parametrize("status", ["in_progress", "quality_check", "waiting_for_parts"])
def test_only_an_order_on_hold_is_resumed(status):
    ro = order(status, jobs=[job()])
    with pytest.raises(StateConflict):
        ro.resume()
    assert ro.status == status and ro.events == []


# -- quality check and hand-over ----------------------------------------------------------------------------
def test_the_quality_check_waits_for_the_work_to_be_finished():
    with pytest.raises(StateConflict, match="not finished"):
        order("in_progress", jobs=[job()]).pass_qc("tech-2")


def test_the_quality_check_is_done_by_someone_who_did_not_do_the_work():
    ro = order("quality_check", jobs=[job("tech-1", finished=T0 + timedelta(hours=1))])
    with pytest.raises(RuleBroken) as refused:
        ro.pass_qc("tech-1")
    assert "checked_by" in refused.value.fields
    with pytest.raises(RuleBroken):
        ro.fail_qc("tech-1", "", T0)


def test_a_passed_check_makes_the_order_ready():
    ro = order("quality_check", jobs=[job(finished=T0 + timedelta(hours=1))])
    ro.pass_qc("tech-2")
    assert ro.status == "ready" and types(ro) == ["qc.passed", "repair_order.ready"]


def test_a_failed_check_sends_the_order_back_for_rework():
    ro = order("quality_check", jobs=[job(finished=T0 + timedelta(hours=1))])
    ro.fail_qc("tech-2", "", T0 + timedelta(hours=2))
    assert ro.status == "in_progress" and ro.failed_check_at == T0 + timedelta(hours=2) and not ro.work_done
    assert [(e.type, e.facts["reason"]) for e in ruled(ro)] == [("qc.failed", "failed")]


def test_a_delivery_hands_over_the_approved_lines():
    lines = [line()]
    ro = order("ready", jobs=[job(finished=T0)], approved_total_cents=9500)
    ro.deliver("sam", lines, T0 + timedelta(hours=5))
    assert ro.status == "delivered" and ro.delivered_at == T0 + timedelta(hours=5)
    facts = ro.recorded("repair_order.delivered")[0].facts
    assert facts["lines"] == lines and facts["number"] == ro.number


def test_only_a_ready_order_is_delivered():
    with pytest.raises(IllegalTransition):
        order("quality_check", jobs=[job(finished=T0)]).deliver("sam", [], T0)


# -- cancelling -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts"])
def test_an_order_is_cancelled_at_any_point_before_work(status):
    ro = order(status)
    assert ro.cancel("customer changed their mind") is None
    assert ro.status == "cancelled" and types(ro) == ["repair_order.cancelled"]


def test_cancelling_supersedes_the_quote_awaiting_approval():
    ro = quoted()
    quote = ro.open_quote
    assert ro.cancel("no") is quote and quote.status == "superseded" and ro.open_quote is None


@pytest.mark.parametrize("status", ["in_progress", "on_hold", "quality_check", "ready", "delivered"])
def test_an_order_whose_work_has_started_cannot_be_cancelled(status):
    ro = order(status, jobs=[job()])
    with pytest.raises(StateConflict, match="work has started"):
        ro.cancel("too late")
    assert ro.status == status and ro.events == []


# -- the promise -------------------------------------------------------------------------------------------------
def test_the_remaining_work_adds_the_local_sourcing_wait_while_parts_are_not_reserved():
    assert remaining_work_seconds(2.0, 1800, "reserved") == 5400
    assert remaining_work_seconds(2.0, 1800, "short") == 5400 + 3600
    assert remaining_work_seconds(1.0, 7200, "none") == 0


def test_a_repair_order_is_built_from_its_stored_row():
    row = {"repair_order_id": uuid.uuid4(), "branch_id": "B1", "number": "RO-B1-000007", "customer_id": uuid.uuid4(),
           "vehicle_id": uuid.uuid4(), "priority": "vip", "status": "awaiting_approval", "parts_status": "none",
           "approved_total_cents": 0, "delivered_at": None, "booking_id": None, "plate": "B X 1",
           "jobs": [{"job_id": uuid.uuid4(), "technician_id": "tech-1", "started_at": T0, "description": "",
                     "finished_at": None, "clocked_seconds": None, "notes": ""}],
           "open_quote": {"quote_id": uuid.uuid4(), "status": "open", "lines": [line()]}, "failed_check_at": None}
    ro = RepairOrder.from_row(row)
    assert ro.open_quote.quote_id == row["open_quote"]["quote_id"] and ro.open_quote.total_cents == 9500
    assert [j.technician_id for j in ro.open_jobs] == ["tech-1"] and ro.priority == "vip"


def test_a_technician_is_clocked_on_one_order_once_at_a_time():
    ro = order("approved", parts_status="reserved")
    first = ro.start_job(uuid.UUID(int=1), "tech-anna", "", T0)
    with pytest.raises(StateConflict, match="clocked on"):
        ro.start_job(uuid.UUID(int=2), "tech-anna", "", T0)
    ro.start_job(uuid.UUID(int=3), "tech-ben", "", T0)  # a colleague may work on it beside her
    ro.finish_job(first.job_id, "", T0)
    ro.start_job(uuid.UUID(int=4), "tech-anna", "", T0)  # clocked off: she may clock on again


def test_a_part_sent_for_the_order_puts_its_tracking_reference_on_the_advisors_timeline():
    ro = order("waiting_for_parts", parts_status="short")
    assert ro.part_on_its_way("PAD-1", 2, "DHL-42")
    [note] = ro.take_notes()
    assert not note.public and note.note == "2 x PAD-1 on its way from another branch: tracking DHL-42"
    assert not order("cancelled").part_on_its_way("PAD-1", 2, "DHL-42")

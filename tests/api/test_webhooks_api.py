"""Webhook subscriptions, their delivery log and replays through the gateway: who may, and what a mistake
answers. (Deliveries against real receivers: tests/integration/test_webhooks.py.)"""
import uuid

from tests.support.gateway import Api
from tests.support.infra import wait_for


def test_an_admin_subscribes_and_operations_read_the_log_but_change_nothing(gateway, admin, world):
    operations, advisor = Api.as_role(gateway.url, "operations"), Api.as_role(gateway.url, "advisor",
                                                                               branch_id=world["branch"])
    created = admin.ok("POST", "/webhooks/subscriptions", {"url": "http://127.0.0.1:9/nowhere",
                                                           "event_types": ["invoice.*", "repair_order.delivered"]},
                       status=201)
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    assert created["created_by"] == admin.subject  # who did it comes from the token
    sid = created["subscription_id"]
    shown = operations.ok("GET", f"/webhooks/subscriptions/{sid}")
    assert "secret" not in shown and shown["event_types"] == ["invoice.*", "repair_order.delivered"]
    assert any(s["subscription_id"] == sid for s in operations.ok("GET", "/webhooks/subscriptions")["items"])
    assert operations.ok("GET", f"/webhooks/subscriptions/{sid}/deliveries")["items"] == []
    assert operations.post("/webhooks/subscriptions", {"url": "https://x.example.com/", "event_types": ["*"]}
                           ).status_code == 403
    assert advisor.get("/webhooks/subscriptions").status_code == 403
    assert admin.ok("POST", f"/webhooks/subscriptions/{sid}/pause")["status"] == "paused"
    assert admin.ok("POST", f"/webhooks/subscriptions/{sid}/resume")["status"] == "active"
    removed = admin.session.delete(f"{admin.base}/webhooks/subscriptions/{sid}", timeout=30)
    assert removed.status_code == 200 and removed.json()["status"] == "disabled"
    refused = admin.post(f"/webhooks/subscriptions/{sid}/resume")
    assert refused.status_code == 409, refused.text


def test_mistakes_get_a_field_level_answer(gateway, admin):
    wrong = admin.post("/webhooks/subscriptions", {"url": "https://x.example.com/", "event_types": ["invoice.nope"]})
    assert wrong.status_code == 422 and "event_types" in wrong.json()["error"]["fields"], wrong.text
    missing = admin.post("/webhooks/subscriptions", {"event_types": ["*"]})
    assert missing.status_code == 400 and "url" in missing.json()["error"]["fields"]
    assert admin.get(f"/webhooks/subscriptions/{uuid.uuid4()}").status_code == 404
    assert admin.get("/webhooks/subscriptions/not-an-id").status_code == 404
    assert admin.get(f"/webhooks/deliveries/{uuid.uuid4()}").status_code == 404
    no_queue = admin.post("/events/replays", {"queue": "no-such-queue", "from": "2026-01-01T00:00:00Z"})
    assert no_queue.status_code == 404 and "queue" in no_queue.json()["error"]["fields"]
    long = admin.post("/events/replays", {"queue": "é" * 200, "from": "2026-01-01T00:00:00Z"})  # 400 bytes
    assert long.status_code == 400 and "queue" in long.json()["error"]["fields"]
    two = admin.post("/events/replays", {"queue": "q", "from": "2026-01-01T00:00:00Z",
                                          "after_event_id": str(uuid.uuid4())})
    assert two.status_code == 400 and "from" in two.json()["error"]["fields"]


def test_a_replay_into_a_handler_queue_publishes_the_archived_events_of_its_type(gateway, admin, world):
    """The stack's events are archived; a replay into billing's queue of branch.configured publishes only
    that type there (billing's inbox makes the copies harmless)."""
    replay = admin.ok("POST", "/events/replays", {"queue": "evt-pitlane-branch.configured--billing.copy_branch",
                                                  "from": "2020-01-01T00:00:00Z"}, status=202)
    done = wait_for(lambda: (r := admin.ok("GET", f"/events/replays/{replay['replay_id']}"))["status"] == "done"
                    and r, timeout=20, message="the replay")
    assert done["matched"] >= 3 and done["published"] == done["matched"]  # the run's three branches, at least
    assert done["created_by"] == admin.subject

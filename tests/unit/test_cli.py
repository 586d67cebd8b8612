"""The operator command without services: token issuing, and the topology it lists and declares."""
import jwt
from click.testing import CliRunner

from pitlane.cli import main
from shared import config


def claims(token):
    return jwt.decode(token.strip(), config.jwt_secret(), algorithms=["HS256"])


def test_token_create_issues_a_scoped_signed_token():
    result = CliRunner().invoke(main, ["token", "create", "--role", "advisor", "--branch", "N1", "--ttl", "2"])
    assert result.exit_code == 0, result.output
    token = claims(result.output)
    assert token["role"] == "advisor" and token["branch_id"] == "N1" and token["sub"] == "advisor@N1"
    assert token["exp"] - token["iat"] == 2 * 3600


def test_a_region_for_a_parts_coordinator_and_nothing_for_operations():
    coordinator = claims(CliRunner().invoke(main, ["token", "create", "--role", "parts_coordinator",
                                                   "--region", "NORTH"]).output)
    assert coordinator["region_id"] == "NORTH" and "branch_id" not in coordinator
    operations = claims(CliRunner().invoke(main, ["token", "create", "--role", "operations"]).output)
    assert operations["role"] == "operations" and "branch_id" not in operations and "region_id" not in operations


def test_a_branch_role_without_a_branch_is_a_usage_error():
    result = CliRunner().invoke(main, ["token", "create", "--role", "technician"])
    assert result.exit_code == 2 and "needs --branch" in result.output
    result = CliRunner().invoke(main, ["token", "create", "--role", "parts_coordinator"])
    assert result.exit_code == 2 and "needs --region" in result.output
    result = CliRunner().invoke(main, ["token", "create", "--role", "mechanic"])
    assert result.exit_code == 2


def test_topology_lists_every_service_with_its_rpcs_and_handlers_marking_the_generated_sla_ones():
    from pitlane import all_service_classes
    from shared.contracts import events
    from shared.sla import rules as sla

    result = CliRunner().invoke(main, ["topology", "--no-declare"])
    assert result.exit_code == 0, result.output
    out = result.output
    for cls in all_service_classes():
        assert f"{cls.name} ({cls.__module__}.{cls.__qualname__})" in out
    # an RPC the service file shows, and one it inherits, marked with where it comes from
    assert "  rpc    cancel_repair_order\n" in out
    assert "  rpc    set_sla_target  [from shared.sla.clocks.SlaClocks]" in out
    # crm keeps the follow-up clock, started by workshop's delivery: a handler no service file shows
    assert ("  event  repair_order.delivered -> sla_on_repair_order_delivered  queue"
            " evt-pitlane-repair_order.delivered--crm.sla_on_repair_order_delivered"
            "  [generated: SLA clocks (shared/sla/policies.json)]") in out
    # every event a hosted policy names moves the clocks: through a generated handler, or (the
    # service's own events) in the publishing transaction, listed on the service's `sla` line
    blocks = _blocks(out)
    for p in sla.POLICIES:
        for event_type in p.events if p.active else ():
            if events.spec(event_type).source == p.host:
                assert event_type in blocks[p.host]["sla"], (p.name, event_type)
            else:
                handler = f"sla_on_{event_type.replace('.', '_')}"
                assert any(f"-> {handler}  queue evt-pitlane-{event_type}--{p.host}.{handler}" in line
                           and line.endswith("[generated: SLA clocks (shared/sla/policies.json)]")
                           for line in blocks[p.host]["event"]), (p.name, event_type)
    assert "declared" not in out  # --no-declare: nothing sent to the broker


def _blocks(out):
    """service -> kind of line (rpc, event, timer, sla) -> its lines."""
    blocks, current = {}, None
    for line in out.splitlines():
        if not line.startswith(" "):
            current = blocks.setdefault(line.split(" ")[0], {"rpc": [], "event": [], "timer": [], "sla": []})
        else:
            current[line.split()[0]].append(line)
    return {name: {kind: lines if kind != "sla" else " ".join(lines) for kind, lines in kinds.items()}
            for name, kinds in blocks.items()}


def test_topology_declares_what_it_lists(monkeypatch):
    import shared.bus.messaging

    declared = []
    monkeypatch.setattr(shared.bus.messaging, "declare_topology",
                        lambda uri, classes: declared.extend(classes) or ["q1", "q2"])
    result = CliRunner().invoke(main, ["topology"])
    assert result.exit_code == 0, result.output
    assert len(declared) == 5 and result.output.endswith("declared 2 handler queues\n")

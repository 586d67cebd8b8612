"""The operator command without services: token issuing, and the topology it lists and declares."""
import jwt
from click.testing import CliRunner

from pitlane import SERVICE_CLASSES
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
    assert blocks["webhooks"]["stream"] == ["  stream #  queue evt-pitlane-#--webhooks.archive  (consumed in batches)"]
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
    """service -> kind of line (rpc, event, site, stream, timer, sla) -> its lines."""
    blocks, current = {}, None
    for line in out.splitlines():
        if not line.startswith(" "):
            current = blocks.setdefault(line.split(" ")[0], {"rpc": [], "event": [], "site": [], "stream": [], "timer": [],
                                                             "sla": []})
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
    assert len(declared) == len(SERVICE_CLASSES) and result.output.endswith("declared 2 handler queues\n")


# -- the connection budget (docs/reliability.md, "Connection budget") -----------------------------------
def test_the_stack_at_its_defaults_holds_at_most_40_postgresql_connections(monkeypatch, tmp_path):
    """Every pool the stack opens, sized as the code sizes it: every service's process (units of work
    and RPC replies) and each gateway worker's store. PostgreSQL's default is 100 connections (3 of
    them for superusers): two stacks and the tests must fit."""
    import gateway.__main__ as gateway_main
    import gateway.store
    import shared.storage.dependencies as dependencies
    from pitlane import all_service_classes

    for name in ("PITLANE_DB_POOL", "PITLANE_GATEWAY_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    sizes = []

    class CountingPool:
        def __init__(self, dsn, schema, size=8, **kwargs):
            sizes.append((schema, size))

    for module in (dependencies, gateway.store):
        monkeypatch.setattr(module, "Pool", CountingPool)
        monkeypatch.setattr(module, "ensure_database", lambda dsn: None)
        monkeypatch.setattr(module, "migrate", lambda *args, **kwargs: [])

    class Container:
        def __init__(self, cls):
            self.service_name, self.service_cls, self.config = cls.name, cls, {"AMQP_URI": config.amqp_uri()}

    services = 0
    for cls in all_service_classes():
        for declared in [v for k in cls.__mro__ for v in vars(k).values() if isinstance(v, dependencies.Database)][:1]:
            database = dependencies.Database(declared.pool_size)
            database.container = Container(cls)
            database.setup()
            services += 1
    per_services = sum(size for _, size in sizes)
    assert services == len(SERVICE_CLASSES) and len(sizes) == 2 * services  # units of work and replies, each

    gateway.store.GatewayStore()
    per_gateway_worker = sum(sizes[i][1] for i in range(2 * services, len(sizes)))
    options = {}
    monkeypatch.setattr(gateway_main, "Gateway", lambda o: options.update(o) or type("G", (), {"run": lambda s: None})())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    gateway_main.main()
    budget = per_services + options["workers"] * per_gateway_worker
    assert budget <= 40, f"{per_services} for the services + {options['workers']} x {per_gateway_worker} for the gateway"
    assert 2 * budget + 3 + 10 <= 100  # a second stack, the superusers' reserve and ten for the tests


# -- `pitlane run`: the supervisor's backoff, and a start that cannot work -------------------------------
def test_a_restart_waits_longer_after_each_quick_death_and_starts_over_after_a_healthy_run(monkeypatch, tmp_path):
    from pitlane import stack

    child = stack.Child("workshop", ["true"])
    monkeypatch.setattr(stack.subprocess, "Popen", lambda *a, **k: None)
    monkeypatch.setattr(stack, "LOGS", tmp_path)
    delays, now = [], 1000.0
    child.start(now)
    for _ in range(7):  # dies two seconds after each start
        now += 2
        delays.append(child.died(now))
        now = child.restart_at
        child.start(now)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    now += stack.HEALTHY_RUN  # it ran a healthy 30 s, then died: the first delay again
    assert child.died(now) == 1
    child.start(child.restart_at)
    assert child.died(child.started_at + 2) == 2 and child.restarts == 9


def test_processes_n_starts_n_processes_of_every_service_each_told_its_share(monkeypatch):
    from pitlane import SERVICE_CLASSES, stack

    monkeypatch.delenv("PITLANE_PROCESSES", raising=False)
    children = stack.service_children(2, "python")
    assert [c.name for c in children[:2]] == [f"{next(iter(SERVICE_CLASSES))}-1", f"{next(iter(SERVICE_CLASSES))}-2"]
    assert len(children) == 2 * len(SERVICE_CLASSES) and len({c.name for c in children}) == len(children)
    assert sorted(c.argv[-1] for c in children) == sorted(list(SERVICE_CLASSES) * 2)
    assert stack.os.environ["PITLANE_PROCESSES"] == "2"  # inherited by every child it starts
    assert [c.name for c in stack.service_children(1, "python")] == list(SERVICE_CLASSES)


def _start_refused(monkeypatch, tmp_path, **env):
    from pitlane import stack

    monkeypatch.setattr(stack, "PID_FILE", tmp_path / "run.pid")
    monkeypatch.setattr(stack, "STATE", tmp_path)
    started = []
    monkeypatch.setattr(stack.subprocess, "Popen", lambda *a, **k: started.append(a) or 1 / 0)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["run", "--no-demo"])
    assert result.exit_code == 1 and not started, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    return result.output


def test_postgresql_refusing_connections_at_start_is_one_line_saying_what_to_do(monkeypatch, tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    said = _start_refused(monkeypatch, tmp_path, PITLANE_DSN=f"postgresql://postgres@127.0.0.1:{closed}/pitlane",
                          PITLANE_GATEWAY_PORT=str(closed))
    assert said.startswith(f"pitlane run: PostgreSQL at 127.0.0.1:{closed} refuses connections"), said
    assert "start it" in said and "PITLANE_DSN" in said


def test_a_second_run_is_refused_by_its_pid_file_or_its_port(monkeypatch, tmp_path):
    import os
    import socket
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "pitlane"])
    try:
        from pathlib import Path
        import time

        deadline = time.monotonic() + 10  # until the child has exec'd: before, /proc shows pytest's command line
        while b"pitlane" not in Path(f"/proc/{holder.pid}/cmdline").read_bytes() and time.monotonic() < deadline:
            time.sleep(0.01)
        (tmp_path / "run.pid").write_text(f"{holder.pid}\n")
        said = _start_refused(monkeypatch, tmp_path)
        assert f"pitlane is already running (pid {holder.pid}" in said and "Ctrl-C" in said, said
    finally:
        holder.kill()
        holder.wait()
    # the pid file is stale now: the port taken by someone else is what stops it
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = _start_refused(monkeypatch, tmp_path, PITLANE_GATEWAY_PORT=str(port))
    assert f"port {port} on 127.0.0.1 is in use" in said and "PITLANE_GATEWAY_PORT" in said, said
    assert os.path.exists(tmp_path / "run.pid")  # not ours to remove: it was not written by this run

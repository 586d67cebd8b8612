"""The `pitlane` command: run the stack, migrate, list and declare the broker topology, tokens, dead letters."""
import inspect
import json
import sys

import click

from pitlane import SERVICE_CLASSES
from shared import config


@click.group()
def main():
    """pitlane operator commands."""


@main.command()
def migrate():
    """Create the database if missing and bring every service schema up to date."""
    from pathlib import Path

    import importlib

    from shared.storage.migrate import ensure_database, migrate as run

    for name in SERVICE_CLASSES:
        dsn = config.dsn(name)
        ensure_database(dsn)
        folder = Path(importlib.import_module(f"services.{name}").__file__).parent / "migrations"
        ran = run(dsn, name, folder)
        click.echo(f"{name}: {len(ran)} migration(s) applied" + (f" ({', '.join(ran)})" if ran else ""))


@main.command()
@click.option("--declare/--no-declare", default=True, show_default=True,
              help="Declare the queues on the broker after listing them (--no-declare: list only, no broker).")
@click.option("--list/--no-list", "listing", default=True, show_default=True,
              help="Print the listing (--no-list: declare only, as `pitlane run` does at start).")
def topology(declare, listing):
    """List every service's RPC methods and event handlers with their queues, then declare the events
    exchange, every handler queue, retry and dead-letter queues (before any service starts).

    Entrypoints a service inherits are marked with where they come from; the SLA handlers generated
    from shared/sla/policies.json are marked `generated`. Events a service publishes itself and
    applies to its own SLA clocks in the publishing transaction have no queue and are listed last.
    """
    from pitlane import all_service_classes
    from shared.bus.messaging import declare_topology

    classes = all_service_classes()
    for cls in classes if listing else ():
        click.echo("\n".join(service_topology(cls)))
    if declare:
        queues = declare_topology(config.amqp_uri(), classes)
        click.echo(f"declared {len(queues)} handler queues")


def service_topology(cls) -> list[str]:
    """What a service class answers (RPC), listens to (events, with their queues) and runs on a
    timer, one line each."""
    from nameko.rpc import Rpc
    from nameko.timer import Timer

    from shared.bus.messaging import EXCHANGE_OWNER, handler_queue, owner_of

    lines = [f"{cls.name} ({cls.__module__}.{cls.__qualname__})"]
    rpcs, handlers, timers = [], [], []
    for method_name, method in sorted(inspect.getmembers(cls, inspect.isfunction)):
        origin = _origin(cls, method_name, method)
        if any(isinstance(e, Rpc) for e in getattr(method, "nameko_entrypoints", ())):
            rpcs.append(f"  rpc    {method_name}{origin}")
        timers += [f"  timer  {method_name} every {e.interval:g} s{origin}"
                   for e in getattr(method, "nameko_entrypoints", ()) if isinstance(e, Timer)]
        event_type = getattr(method, "pitlane_event_type", None)
        if event_type:
            queue = handler_queue(event_type, cls.name, method_name, owner_of(method))
            kind, note = ("site ", "  (from other sites)") if owner_of(method) != EXCHANGE_OWNER else ("event", "")
            handlers.append(f"  {kind}  {event_type} -> {method_name}  queue {queue}{note}{origin}")
    handlers += [f"  stream {pattern}  queue {queue}  (consumed in batches)" for pattern, queue in getattr(cls, "stream_queues", ())]
    own = getattr(cls, "sla_own_events", ())
    tail = [f"  sla    {', '.join(own)}  (own events: clocks move in the publishing transaction, no queue)"] if own else []
    return lines + rpcs + handlers + timers + tail


def _origin(cls, method_name, method) -> str:
    generated = getattr(method, "pitlane_generated", None)
    if generated:
        return f"  [generated: {generated}]"
    owner = next(k for k in cls.__mro__ if method_name in vars(k))
    return "" if owner is cls else f"  [from {owner.__module__}.{owner.__qualname__}]"


@main.command()
@click.option("--demo/--no-demo", default=True, help="Load the demo dealer group once the stack is up.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Processes of every service, consuming the same queues (docs/scaling.md).")
def run(demo, processes):
    """Start every service and the gateway, supervise them, stop them all on Ctrl-C."""
    from pitlane import stack

    try:
        code = stack.run(load_demo=demo, processes=processes)
    except stack.NotStarted as exc:
        click.echo(f"pitlane run: {exc}", err=True)
        code = 1
    sys.exit(code)


@main.command("demo")
def demo_cmd():
    """Load the demo dealer group into a running stack (safe to run twice)."""
    from pitlane import demo

    demo.main()


@main.group()
def token():
    """Bearer tokens for the API."""


@token.command("create")
@click.option("--role", required=True,
              type=click.Choice(["advisor", "technician", "parts_coordinator", "operations", "admin"]))
@click.option("--branch", "branch_id", help="Branch of an advisor or technician.")
@click.option("--region", "region_id", help="Region of a parts coordinator.")
@click.option("--subject", help="Who the token is for (default: role@branch/region).")
@click.option("--ttl", "ttl_hours", default=12, show_default=True, help="Hours until it expires.")
def token_create(role, branch_id, region_id, subject, ttl_hours):
    """Issue a signed token and print it."""
    from gateway.auth import issue_token

    if role in ("advisor", "technician") and not branch_id:
        raise click.UsageError(f"a {role} token needs --branch")
    if role == "parts_coordinator" and not region_id:
        raise click.UsageError("a parts_coordinator token needs --region")
    subject = subject or f"{role}@{branch_id or region_id or 'group'}"
    click.echo(issue_token(role, subject, branch_id=branch_id, region_id=region_id,
                           ttl_seconds=ttl_hours * 3600))


@main.group()
def staff():
    """Staff who sign in to the console (and POST /api/v1/sessions)."""


@staff.command("add")
@click.option("--login", required=True)
@click.option("--name", default="", help="The name the console shows (default: the login).")
@click.option("--role", required=True,
              type=click.Choice(["advisor", "technician", "parts_coordinator", "operations", "admin"]))
@click.option("--branch", "branch_id", help="Branch of an advisor or technician.")
@click.option("--region", "region_id", help="Region of a parts coordinator.")
@click.password_option(help="At least 10 characters; asked for twice when not given.")
def staff_add(login, name, role, branch_id, region_id, password):
    """Add a member of staff, or set the password and role of one already there."""
    from gateway.store import GatewayStore
    from pitlane import staff as people
    from shared.contracts import errors

    try:
        member = people.add(GatewayStore(pool_size=1), login, name, password, role, branch_id, region_id)
    except errors.ValidationFailed as exc:
        raise click.UsageError(f"{exc}: {exc.fields}") from None
    click.echo(f"{member.login}: {member.role}" + (f" at {member.branch_id or member.region_id}"
                                                   if member.branch_id or member.region_id else ""))


@main.command("pgbouncer-config")
@click.option("--port", default=6432, show_default=True, help="Port PgBouncer listens on, at 127.0.0.1.")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False),
              help="Folder for pgbouncer.ini and userlist.txt (and PgBouncer's pid file and log).")
@click.option("--pool-size", default=5, show_default=True,
              help="Server connections at most per schema (each service's, the gateway's).")
def pgbouncer_config(port, directory, pool_size):
    """Write a PgBouncer configuration in transaction mode for this stack's DSNs, and say how to start it.

    One PgBouncer database per schema, whose connect_query sets the search_path; migrations keep
    going straight to PostgreSQL (docs/scaling.md, "PgBouncer")."""
    import os
    import pwd
    from pathlib import Path

    folder = Path(directory).resolve()
    ini = write_pgbouncer_config(folder, port, pool_size)
    as_user = ""
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: it will switch to postgres (-u)
        postgres = pwd.getpwnam("postgres")
        for path in (folder, *folder.iterdir()):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        as_user = "-u postgres "
    schemas = len(SERVICE_CLASSES) + 1
    click.echo(f"wrote {ini} and {folder / 'userlist.txt'}: transaction mode, {schemas} databases,"
               f" at most {schemas * pool_size} connections to PostgreSQL")
    click.echo(f"start it:  pgbouncer -d {as_user}{ini}")
    click.echo(f"then:      export PITLANE_PGBOUNCER=127.0.0.1:{port}")
    click.echo(f"stop it:   kill $(cat {folder / 'pgbouncer.pid'})")


def write_pgbouncer_config(folder, port: int, pool_size: int = 5, dsns: dict[str, str] | None = None):
    """pgbouncer.ini and userlist.txt in `folder` for `dsns` (schema: DSN; default: every service's
    (SERVICE_CLASSES) and the gateway's, from the environment); the path of pgbouncer.ini.

    Transaction mode: a server connection serves a client for one transaction, so no session state
    may outlive one. The search_path is set once per server connection by its database's
    connect_query and nothing resets it (server_reset_query is empty). Trust authentication for
    a PostgreSQL that trusts local connections; deploy/pgbouncer/ shows a production setting."""
    from psycopg.conninfo import conninfo_to_dict

    folder.mkdir(parents=True, exist_ok=True)
    if dsns is None:
        dsns = {schema: config.dsn(schema) for schema in (*SERVICE_CLASSES, "gateway")}
    databases, users = [], {}
    for schema, dsn in dsns.items():
        params = conninfo_to_dict(dsn)
        user = params.get("user") or "postgres"
        dbname = params.get("dbname") or user
        users[user] = params.get("password", "")
        databases.append(f"{config.pgbouncer_database(dbname, schema)} = host={params.get('host') or '127.0.0.1'}"
                         f" port={params.get('port') or 5432} dbname={dbname}"
                         f" connect_query='SET search_path TO \"{schema}\", public'")
    (folder / "userlist.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in users.items()))
    ini = folder / "pgbouncer.ini"
    ini.write_text("\n".join([
        "; pitlane: PgBouncer in transaction mode in front of PostgreSQL (`pitlane pgbouncer-config`)",
        "[databases]", *databases, "",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",  # TCP only: nothing written to /tmp or /var/run/postgresql
        "pool_mode = transaction",
        "auth_type = trust",
        f"auth_file = {folder / 'userlist.txt'}",
        f"admin_users = {', '.join(users)}",
        f"stats_users = {', '.join(users)}",
        # per database (schema): a service's transactions never wait for another's connections,
        # and the stack holds at most (schemas x pool size) connections however many processes run
        f"default_pool_size = {pool_size}",
        f"max_db_connections = {pool_size}",
        "reserve_pool_size = 0",
        "max_client_conn = 500",
        "query_wait_timeout = 30",  # as long as a pool's caller waits for a connection (shared/storage/db.py)
        "server_idle_timeout = 60",
        "server_reset_query =",
        "ignore_startup_parameters = extra_float_digits",
        f"pidfile = {folder / 'pgbouncer.pid'}",
        f"logfile = {folder / 'pgbouncer.log'}",
        "",
    ]))
    return ini


@main.group()
def dlq():
    """Dead letters: events a handler kept failing on."""


@dlq.command("list")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print full records as JSON.")
def dlq_list(limit, as_json):
    """Show dead letters with the queue and error they failed on."""
    from pitlane import dlq as dead_letters

    found = dead_letters.list_dead_letters(config.amqp_uri(), limit)
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    if not found:
        click.echo("no dead letters")
    for item in found:
        click.echo(f"{item['id']}  {item['event_type']}  attempts={item['attempts']}  "
                   f"queue={item['queue']}\n    {item['error']}")


@dlq.command("replay")
@click.argument("message_id", required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(message_id, replay_all):
    """Send a dead letter (by id, or --all) back to the queue it failed on."""
    from pitlane import dlq as dead_letters

    if not message_id and not replay_all:
        raise click.UsageError("give a message id, or --all")
    replayed = dead_letters.replay(config.amqp_uri(), None if replay_all else message_id)
    if message_id and not replayed:
        raise click.ClickException(f"no dead letter with id {message_id}")
    click.echo(f"replayed {len(replayed)}: {' '.join(replayed)}")


if __name__ == "__main__":
    main()


@main.group()
def sites():
    """Link this site to other sites (docs/sites.md): run at each site, for each other site."""


@sites.command("link")
@click.argument("site")
@click.argument("remote_uri")
@click.option("--reconnect-delay", default=5, type=click.IntRange(min=1), show_default=True,
              help="Whole seconds between the shovel's reconnects (RabbitMQ restarts a shovel only with a positive integer).")
def sites_link(site, remote_uri, reconnect_delay):
    """Send this site's crossing events to SITE, whose broker REMOTE_URI names (its vhost too): declares
    the queue they wait in (pitlane.sites.to.SITE) and sets the shovel pitlane-to-SITE."""
    from pitlane import sites as links

    linked = links.link(site, remote_uri, reconnect_delay)
    click.echo(f"linked to {site}: shovel {links.shovel_name(site)} from queue pitlane.sites.to.{site}")
    if not linked["whole_figures_asked"]:
        click.echo("(parts' database is not reachable now: its whole stock figures go within ten intervals)")


@sites.command("unlink")
@click.argument("site")
@click.option("--drop-queue", is_flag=True, help="Delete the events waiting for SITE too.")
def sites_unlink(site, drop_queue):
    """Stop sending events to SITE (they wait in its queue unless --drop-queue)."""
    from pitlane import sites as links

    links.unlink(site, drop_queue)
    click.echo(f"unlinked from {site}")


@sites.command("status")
def sites_status():
    """Each link's shovel state and the events waiting for it."""
    from pitlane import sites as links

    rows = links.status()
    for row in rows:
        click.echo(f"{row['shovel']:<28} {row['state']:<12} waiting {row['waiting']!s:<6} {row['queue']} -> {row['to']}")
    if not rows:
        click.echo("no links (this site sends nothing to other sites)")

"""Configuration from the environment, with defaults that work on a local development machine."""
import os

SERVICES = ("booking", "workshop", "parts", "billing", "crm")  # the after-sales services, each keeps SLA clocks
INTEGRATIONS = ("webhooks",)  # the event stream pushed to integrators (services/webhooks)


def amqp_uri() -> str:
    return os.environ.get("PITLANE_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def management_uri() -> str:
    """RabbitMQ management API, used for vhosts in tests and dead-letter tooling."""
    return os.environ.get("PITLANE_RABBIT_API", "http://guest:guest@127.0.0.1:15672")


def dsn(service: str | None = None) -> str:
    """PostgreSQL DSN of a service: PITLANE_<SERVICE>_DSN, else the shared PITLANE_DSN."""
    if service:
        own = os.environ.get(f"PITLANE_{service.upper()}_DSN")
        if own:
            return own
    return os.environ.get("PITLANE_DSN", "postgresql://postgres@127.0.0.1:5432/pitlane")


def pgbouncer() -> str | None:
    """host:port of a PgBouncer in transaction mode that the services' and the gateway's pools go
    through (PITLANE_PGBOUNCER, e.g. 127.0.0.1:6432); None: straight to PostgreSQL. Migrations and
    the creation of a missing database always go straight to PostgreSQL: they hold a session
    (an advisory lock, CREATE DATABASE). `pitlane pgbouncer-config` writes its configuration."""
    return os.environ.get("PITLANE_PGBOUNCER") or None


def pgbouncer_database(dbname: str, schema: str) -> str:
    """The PgBouncer database (an alias of `dbname`) that a pool of `schema` connects to: its
    connect_query sets the schema's search_path, which PgBouncer 1.18 cannot take from the client
    (it refuses the `options` startup parameter)."""
    return f"{dbname}__{schema}"


def processes() -> int:
    """Processes of each service (`pitlane run --processes N` sets PITLANE_PROCESSES for them)."""
    return max(1, int(os.environ.get("PITLANE_PROCESSES", "1")))


def units_of_work_connections(processes: int) -> int:
    """The budget of one service process's unit-of-work pool when PITLANE_DB_POOL does not set it:
    4 with one process per service, 2 each with more, so that a stack of two processes per service
    still fits twice in PostgreSQL's default 100 connections beside the tests (docs/reliability.md,
    "Connection budget"). Beyond two processes the way on is PgBouncer (docs/scaling.md)."""
    return 4 if processes <= 1 else 2


def db_pool_size() -> int:
    """Connections one service process may hold for its units of work (its outbox relay and
    retention borrow from them; beside them: its one RPC-replies connection): PITLANE_DB_POOL,
    else the budget for PITLANE_PROCESSES processes per service. The benchmarks found 3, 4 and 8
    per service alike on this machine."""
    given = os.environ.get("PITLANE_DB_POOL")
    return int(given) if given else units_of_work_connections(processes())


def rpc_replies_pool_size() -> int:
    """Connections of a service process's RPC-replies pool (shared/storage/dependencies.py): one.
    Its only query is the look-up of a kept answer, made by the process's one RPC consumer thread
    before a command with a command id (or a redelivered one) runs, one request at a time."""
    return 1


def gateway_db_pool_size() -> int:
    """Connections of one gateway worker's store (idempotency keys, audit trail, staff), shared by
    its 8 threads: PITLANE_GATEWAY_DB_POOL, default 3. A request holds one only for its
    Idempotency-Key's claim and completion (a statement or two each, never during its RPC), the
    audit trail for one COPY of a batch; most requests need none."""
    return int(os.environ.get("PITLANE_GATEWAY_DB_POOL", "3"))


def stack_connections(processes: int, gateway_workers: int = 2, units_of_work: int | None = None,
                      gateway_pool: int = 3) -> int:
    """At most how many PostgreSQL connections one stack holds, straight to PostgreSQL: every
    process of every service (SERVICES and INTEGRATIONS: units of work and RPC replies) and every
    gateway worker."""
    if units_of_work is None:
        units_of_work = units_of_work_connections(processes)
    services = len(SERVICES) + len(INTEGRATIONS)
    return services * processes * (units_of_work + rpc_replies_pool_size()) + gateway_workers * gateway_pool


def rpc_timeout() -> float:
    return float(os.environ.get("PITLANE_RPC_TIMEOUT", "5"))


def nameko_config(service: str | None = None) -> dict:
    """The config dict nameko containers and RPC proxies are built with."""
    return {
        "AMQP_URI": amqp_uri(),
        "max_workers": int(os.environ.get("PITLANE_MAX_WORKERS", "16")),
        "PREFETCH_COUNT": int(os.environ.get("PITLANE_PREFETCH", "16")),
        "serializer": "json",
        "HEARTBEAT": 30,
    }


def shutdown_grace() -> float:
    """Seconds a stopping service gets to finish its work in flight before it is killed."""
    return float(os.environ.get("PITLANE_SHUTDOWN_GRACE", "30"))


def retry_delays() -> list[float]:
    """Seconds to wait before each redelivery of a failing event; then it is dead-lettered."""
    raw = os.environ.get("PITLANE_RETRY_DELAYS", "1,5,30")
    return [float(x) for x in raw.split(",") if x.strip()]


def messages_keep_days() -> float:
    """Days a published outbox row and an applied inbox mark are kept before they are removed."""
    return float(os.environ.get("PITLANE_MESSAGES_KEEP_DAYS", "7"))


def sla_check_interval() -> float:
    return float(os.environ.get("PITLANE_SLA_CHECK_INTERVAL", "5"))


def jwt_secret() -> str:
    return os.environ.get("PITLANE_JWT_SECRET", "pitlane-local-development-secret-change-me")


# -- messages to customers (crm): channels, retries, links ---------------------------------------------
def public_url() -> str:
    """Where customers reach pitlane from outside: the base of the links messages carry (the
    gateway on this machine unless set)."""
    return os.environ.get("PITLANE_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PITLANE_GATEWAY_PORT', '8080')}")


def customer_link_days() -> float:
    return float(os.environ.get("PITLANE_CUSTOMER_LINK_DAYS", "30"))


def smtp_settings() -> dict | None:
    """E-mail through any SMTP server; None (no PITLANE_SMTP_HOST): the email channel is unavailable."""
    host = os.environ.get("PITLANE_SMTP_HOST")
    if not host:
        return None
    return {"host": host, "port": int(os.environ.get("PITLANE_SMTP_PORT", "25")),
            "user": os.environ.get("PITLANE_SMTP_USER") or None,
            "password": os.environ.get("PITLANE_SMTP_PASSWORD") or None,
            "sender": os.environ.get("PITLANE_SMTP_FROM", "service@pitlane.local"),
            "tls": os.environ.get("PITLANE_SMTP_TLS", "starttls")}  # starttls | ssl | none


def provider_settings(channel: str) -> dict | None:
    """SMS or chat through a provider's HTTP API: PITLANE_SMS_URL / _TOKEN, PITLANE_CHAT_URL / _TOKEN;
    None without a URL: the channel is unavailable."""
    url = os.environ.get(f"PITLANE_{channel.upper()}_URL")
    if not url:
        return None
    return {"url": url, "token": os.environ.get(f"PITLANE_{channel.upper()}_TOKEN", "")}


def message_retry_delays() -> list[float]:
    """Seconds before each new try of a message the provider refused: 1 min, 5 min, 30 min, 2 h, 6 h,
    24 h, then the message has failed (each with +/- 20 % jitter)."""
    raw = os.environ.get("PITLANE_MESSAGE_RETRY_DELAYS", "60,300,1800,7200,21600,86400")
    return [float(x) for x in raw.split(",") if x.strip()]


def message_send_interval() -> float:
    """Seconds between the sender's looks for due messages."""
    return float(os.environ.get("PITLANE_MESSAGE_SEND_INTERVAL", "2"))


# -- the broker's queues: their type, for one node or a cluster -------------------------------------------
def queue_type() -> str:
    """The type of the event queues (handlers, retries, dead letters): `classic` (one node, the default)
    or `quorum` (replicated; what a RabbitMQ cluster runs). A queue keeps the type it was declared with:
    changing it means draining and deleting the queues first (docs/scaling.md)."""
    kind = os.environ.get("PITLANE_QUEUE_TYPE", "classic")
    if kind not in ("classic", "quorum"):
        raise ValueError(f"PITLANE_QUEUE_TYPE is {kind!r}: classic or quorum")
    return kind


def delivery_limit() -> int:
    """Deliveries of one message to a quorum queue's consumers before the broker dead-letters it: a
    message whose handling kills the process every time stops at this count instead of looping."""
    return int(os.environ.get("PITLANE_DELIVERY_LIMIT", "20"))


# -- webhooks and the event archive (services/webhooks) ----------------------------------------------------
def webhook_retry_hours() -> float:
    """Hours a delivery is retried before it is given up (the subscription's dead letters)."""
    return float(os.environ.get("PITLANE_WEBHOOK_RETRY_HOURS", "24"))


def webhook_backoff() -> tuple[float, float]:
    """(first, longest) seconds between tries of one delivery: doubling from the first, capped at the
    longest, each with +/- 20 % jitter."""
    return (float(os.environ.get("PITLANE_WEBHOOK_FIRST_RETRY", "5")),
            float(os.environ.get("PITLANE_WEBHOOK_LONGEST_RETRY", "3600")))


def webhook_pause_after() -> float:
    """Seconds a subscription may fail every try before it is paused and operations are told."""
    return float(os.environ.get("PITLANE_WEBHOOK_PAUSE_AFTER", str(6 * 3600)))


def webhook_timeout() -> float:
    """Seconds a receiver has to answer one delivery (connecting, then answering)."""
    return float(os.environ.get("PITLANE_WEBHOOK_TIMEOUT", "10"))


def event_archive_days() -> float:
    """Days the event archive keeps every event for redelivery and replay (beyond the outboxes' own
    PITLANE_MESSAGES_KEEP_DAYS); the delivery log is kept as long. At least 2: a delivery is retried
    for a day and its event must still be there."""
    return max(float(os.environ.get("PITLANE_EVENT_ARCHIVE_DAYS", "30")), 2.0)


# -- sites: regional stacks linked by shovels (docs/sites.md) ----------------------------------------------
def site() -> str | None:
    """This stack's site name (PITLANE_SITE, e.g. north), or None: one stack hosts every region and
    nothing crosses to another site (the default, and what `make run` starts)."""
    return os.environ.get("PITLANE_SITE", "").strip() or None


def site_regions() -> frozenset | None:
    """The regions this site hosts (PITLANE_SITE_REGIONS, comma-separated), or None: every region."""
    regions = frozenset(r.strip() for r in os.environ.get("PITLANE_SITE_REGIONS", "").split(",") if r.strip())
    return regions or None


def site_figures_interval() -> float:
    """Seconds between a site's published figures to the other sites (stock above safety, SLA compliance):
    also the heartbeat that tells them how old what they hold of this site is."""
    return float(os.environ.get("PITLANE_SITE_FIGURES_INTERVAL", "30"))


def remote_figures_max_age() -> float:
    """Seconds after which another site's stock figures are too old to propose its branches as donors."""
    return float(os.environ.get("PITLANE_REMOTE_FIGURES_MAX_AGE", "900"))

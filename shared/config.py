"""Configuration from the environment, with defaults that work on a local development machine."""
import os

SERVICES = ("booking", "workshop", "parts", "billing", "crm")


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


def db_pool_size() -> int:
    """Connections one service process may hold for its units of work (beside them: the 2 of its
    RPC-replies pool). 4 keeps the whole stack within 40 of PostgreSQL's default 100 connections,
    room for a second stack and the tests (docs/reliability.md, "Connection budget"); the
    benchmarks found 3, 4 and 8 per service alike on this machine."""
    return int(os.environ.get("PITLANE_DB_POOL", "4"))


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

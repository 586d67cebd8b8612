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

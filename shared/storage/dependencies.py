"""nameko dependencies every service declares: its database, with outbox relay, inbox and RPC replies."""
import sys
from pathlib import Path

from nameko.extensions import DependencyProvider

from shared import config
from shared.storage.db import Pool
from shared.storage.unit_of_work import RpcReplies, UnitOfWork
from shared.storage.migrate import ensure_database, migrate
from shared.bus.outbox import Relay, Retention


class Database(DependencyProvider):
    """Gives each worker a UnitOfWork on the service's own schema.

    At set-up it brings the schema up to date (the shared migrations, then the service's, always
    straight to PostgreSQL, while the pools go through PgBouncer when PITLANE_PGBOUNCER is set),
    and while the service runs it keeps an outbox relay publishing what commits announce, and
    the retention that removes published outbox rows, inbox marks and kept answers once old.
    """

    def __init__(self, pool_size: int | None = None):
        self.pool_size = pool_size

    def setup(self):
        name = self.container.service_name
        dsn = config.dsn(name)
        ensure_database(dsn)
        migrate(dsn, name, self._migrations())
        self.pool = Pool(dsn, name, size=self.pool_size or config.db_pool_size())
        self.relay = Relay(self.pool, self.container.config["AMQP_URI"])
        self.retention = Retention(self.pool, config.messages_keep_days(), replies_keep=RpcReplies.KEEP)
        self.unit_of_work = UnitOfWork(self.pool, name, on_commit=self.relay.wake,
                                       on_publish=getattr(self.container.service_cls, "on_own_event", None))
        # the look-ups of kept answers have a connection of their own, outside the units of work:
        # the RPC consumer thread makes them before a command runs, and must not queue for the pool
        # behind workers that hold their connections until their answers are sent
        self.replies = RpcReplies(Pool(dsn, name, size=config.rpc_replies_pool_size(), autocommit=True))

    def _migrations(self) -> Path:
        """The service's migrations/ folder beside its module, unless the class names another."""
        cls = self.container.service_cls
        explicit = getattr(cls, "migrations", None)
        if explicit:
            return Path(explicit)
        return Path(sys.modules[cls.__module__].__file__).parent / "migrations"

    def start(self):
        self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")
        self.container.spawn_managed_thread(self.retention.run, identifier="outbox-retention")
        self.relay.wake()

    def stop(self):
        self.relay.stop()
        self.retention.stop()

    def kill(self):
        self.relay.stop()
        self.retention.stop()
        self.pool.close()
        self.replies.close()

    def get_dependency(self, worker_ctx):
        # an RPC worker's transactions mark its request (see shared/bus/rpc.py, PitlaneRpc)
        return self.unit_of_work.for_request(getattr(worker_ctx, "pitlane_request", None))

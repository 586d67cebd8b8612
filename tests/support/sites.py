"""Sites for tests (docs/sites.md, issue 28): regional stacks on this machine, each with a RabbitMQ node
and a PostgreSQL cluster of its own, its service processes and its gateway, linked by shovels through a
TCP proxy that stands for the WAN and can be cut.

    with two_sites() as (north, south, link):
        north.api("admin").ok("POST", "/branches", ...)
        link.cut()        # both directions: the shovels' connections drop, new ones are refused
        ...
        link.restore()    # the same ports again: the shovels reconnect

Nothing of the machine's is used: no connection to 127.0.0.1:5672 or 127.0.0.1:5432. `Site.remove()`
stops every process, removes the node, the cluster and the site's temp dir (idempotent, also after a
start that failed halfway); the logs stay in .test-logs/ (service and gateway logs named
site-<name>-..., the node's and cluster's in rabbitmq-<id>/ and postgres-<id>/, see sites.log there).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import jwt
import requests

from gateway.auth import ALGORITHM, issue_token
from shared.config import INTEGRATIONS, SERVICES
from tests.support import faults
from tests.support.gateway import Api, GatewayProcess, free_port
from tests.support.infra import ROOT, ServiceProcess

LOGS = ROOT / ".test-logs"
SHOVEL_PLUGINS = ("rabbitmq_management", "rabbitmq_shovel", "rabbitmq_shovel_management")
CLI = [sys.executable, "-m", "pitlane"]  # `pitlane sites link ...` (written with the sites code)
TEST_LINK_ARGS = ("--reconnect-delay", "1")  # docs/sites.md: 5 s in production, 1 s in tests

# What a site's processes inherit from this process's environment, and what they never inherit: where
# the run's own broker, database and gateway are, and any per-stack setting, are the site's own.
NOT_INHERITED = ("PITLANE_AMQP_URI", "PITLANE_RABBIT_API", "PITLANE_MANAGEMENT_URI", "PITLANE_DSN",
                 "PITLANE_PGBOUNCER", "PITLANE_TEST_VHOST", "PITLANE_TEST_PG", "PITLANE_PROCESSES",
                 "PITLANE_DB_POOL", "PITLANE_QUEUE_TYPE", "PITLANE_PUBLIC_URL", "PITLANE_JWT_SECRET",
                 "PITLANE_STATE_DIR", "PROMETHEUS_MULTIPROC_DIR")
NOT_INHERITED_PREFIXES = ("PITLANE_SITE", "PITLANE_REMOTE_", "PITLANE_GATEWAY_")
# The test run's settings for speed (tests/conftest.py, tests/support/channels.py): a run's own value stands.
FAST = {"PITLANE_RETRY_DELAYS": "0.2,0.5", "PITLANE_SLA_CHECK_INTERVAL": "1", "PITLANE_SCHEMA_SHADOW": "1",
        "PITLANE_MESSAGE_RETRY_DELAYS": "0.3,0.3,0.3", "PITLANE_MESSAGE_SEND_INTERVAL": "0.2",
        "PITLANE_SHUTDOWN_GRACE": "10"}


# -- the WAN link: a TCP proxy that can be cut -------------------------------------------------------------
class LinkProxy:
    """A TCP proxy on 127.0.0.1:<port> to `target` (host, port), a thread per direction of each
    connection. `cut()` closes the listener and both sides of every open connection (each peer sees its
    connection closed; a new connection is refused); `restore()` listens again on the same port; `close()`
    for good. The shovel's dest-uri names the proxy: cutting it is cutting the link."""

    def __init__(self, target: tuple[str, int], name: str | None = None, connect_timeout: float = 5.0):
        self.target = tuple(target)
        self.name = name or f"proxy-{target[0]}:{target[1]}"
        self.connect_timeout = connect_timeout
        self.port = 0
        self.accepted = 0  # connections accepted, over the proxy's life
        self._lock = threading.Lock()
        self._listener = None
        self._acceptor = None
        self._generation = 0  # a listener's connections belong to it: one accepted as it is cut is closed
        self._pairs: set[_Pair] = set()
        self._handlers: set[threading.Thread] = set()
        self._closed = False
        self._listen()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def listening(self) -> bool:
        return self._listener is not None

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the cut connections' TIME_WAIT
        try:
            listener.bind(("127.0.0.1", self.port))
        except OSError:
            listener.close()
            raise
        listener.listen(128)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._generation += 1
            self._listener = listener
            self._acceptor = threading.Thread(target=self._accept, args=(listener, self._generation), daemon=True,
                                              name=f"{self.name}-accept")
        self._acceptor.start()

    def _accept(self, listener, generation):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut or closed
            handler = threading.Thread(target=self._connect, args=(client, generation), daemon=True,
                                       name=f"{self.name}-connect")
            with self._lock:
                self.accepted += 1
                self._handlers.add(handler)
            handler.start()

    def _connect(self, client, generation):
        try:
            try:
                upstream = socket.create_connection(self.target, timeout=self.connect_timeout)
                upstream.settimeout(None)
            except OSError:
                _close(client)  # the far side is down: so is this connection
                return
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if generation != self._generation or self._listener is None:
                    live = False
                else:
                    live = True
                    pair = _Pair(self, client, upstream)
                    self._pairs.add(pair)
            if not live:  # accepted just as the link was cut
                _close(client)
                _close(upstream)
                return
            pair.start()
        finally:
            with self._lock:
                self._handlers.discard(threading.current_thread())

    def _forget(self, pair):
        with self._lock:
            self._pairs.discard(pair)

    def cut(self, timeout: float = 10.0):
        """The link goes down: no listener on the port, every open connection closed on both sides."""
        with self._lock:
            listener, acceptor, self._listener, self._acceptor = self._listener, self._acceptor, None, None
            self._generation += 1
            handlers = list(self._handlers)
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the acceptor blocked in accept()
            except OSError:
                pass
            listener.close()
            acceptor.join(timeout)
        for handler in handlers:  # connections being made to the target: closed as they are made
            handler.join(timeout)
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            pair.cut()
        for pair in pairs:
            pair.join(timeout)
        with self._lock:
            left = len(self._pairs)
        if left:
            raise RuntimeError(f"{self.name}: {left} connection(s) still open after the cut")

    def restore(self):
        """The link is up again, on the same port (the shovels' dest-uri does not change)."""
        if self._closed:
            raise RuntimeError(f"{self.name} is closed")
        if self._listener is None:
            self._listen()

    def close(self):
        self._closed = True
        self.cut()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "up" if self.listening else ("closed" if self._closed else "cut")
        return f"<LinkProxy {self.name} 127.0.0.1:{self.port} -> {self.target[0]}:{self.target[1]} {state}>"


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Pair:
    """One proxied connection: client <-> upstream, a thread per direction; the sockets are closed by
    the last of the two threads to finish (never while the other may still use them)."""

    def __init__(self, proxy, client, upstream):
        self.proxy, self.client, self.upstream = proxy, client, upstream
        self._lock = threading.Lock()
        self._running = 2
        self._cut = False
        self.threads = [threading.Thread(target=self._pump, args=(client, upstream), daemon=True,
                                         name=f"{proxy.name}-up"),
                        threading.Thread(target=self._pump, args=(upstream, client), daemon=True,
                                         name=f"{proxy.name}-down")]

    def start(self):
        for thread in self.threads:
            thread.start()

    def _pump(self, source, dest):
        broken = False
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                dest.sendall(data)
        except OSError:
            broken = True
        try:
            # end of data from one side: the other side is told (a half close), unless broken or cut
            dest.shutdown(socket.SHUT_RDWR if broken or self._cut else socket.SHUT_WR)
            if broken:
                source.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        with self._lock:
            self._running -= 1
            last = self._running == 0
        if last:
            self.client.close()
            self.upstream.close()
            self.proxy._forget(self)

    def cut(self):
        self._cut = True
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # both pumps wake up; each peer sees its connection end
            except OSError:
                pass

    def join(self, timeout):
        for thread in self.threads:
            thread.join(timeout)


# -- one site: node, cluster, services, gateway ------------------------------------------------------------
class SiteServiceProcess(ServiceProcess):
    """A ServiceProcess with exactly the site's environment and a log named after the site."""

    def __init__(self, site: str, *names: str, env: dict):
        super().__init__(*names, env=env)
        self.env = dict(env)
        self.site = site
        self.log_path = LOGS / f"site-{site}-{'+'.join(names)}-{os.getpid()}-{time.time_ns()}.log"


class SiteGateway(GatewayProcess):
    """A GatewayProcess with exactly the site's environment, on the site's port, its metrics in the
    site's temp dir, a log named after the site; whatever of its workers outlives it is killed."""

    def __init__(self, site: str, port: int, env: dict, metrics_dir: Path):
        super().__init__(env)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {"PITLANE_GATEWAY_WORKERS": "2", "PITLANE_GATEWAY_THREADS": "8", **env,
                    "PITLANE_GATEWAY_PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        self.site = site
        self.log_path = LOGS / f"site-{site}-gateway-{port}.log"
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        workers = _children(self.proc.pid)
        if self.proc.poll() is None:
            super().stop()
        else:
            self._log.close()
        if self.proc.poll() is None:  # killed after its 20 s: reap it
            self.proc.wait()
        for pid in workers:  # gunicorn's workers leave on their own when the master is gone; if not:
            _kill_if(pid, "gateway")
        self.proc = None


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kill_if(pid: int, word: str):
    """SIGKILL `pid` if it still runs and its command line names `word` (not a reused pid)."""
    try:
        if word.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


class SiteApi(Api):
    """An Api whose tokens are signed with the site's gateway secret (each site has its own)."""

    @classmethod
    def for_site(cls, base_url: str, secret: str, role: str, subject: str | None = None, **scope):
        subject = subject or f"test-{role}-{time.time_ns()}"
        api = cls(base_url, sign(issue_token(role, subject, **scope), secret))
        api.subject, api.role, api.scope, api.secret = subject, role, scope, secret
        return api

    def another(self, subject=None):
        return SiteApi.for_site(self.base.removesuffix("/api/v1"), self.secret, self.role, subject, **self.scope)


def sign(token: str, secret: str) -> str:
    """The same claims as `token` (issue_token's, which checks role and scope), signed with `secret`."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_LIVE: set = set()  # sites started and not yet removed: removed at exit if a test run is interrupted


class Site:
    """One site on this machine: `name`, the `regions` it hosts, its own RabbitMQ node (with the shovel
    plugins) and PostgreSQL cluster, every service (SERVICES + INTEGRATIONS) as its own process (or all in
    one with together=True) and a gateway, all with `env` (PITLANE_SITE, PITLANE_SITE_REGIONS, its broker
    and database, fast intervals; `extra_env` on top).

    `figures_interval` and `remote_figures_max_age` are seconds (PITLANE_SITE_FIGURES_INTERVAL,
    PITLANE_REMOTE_FIGURES_MAX_AGE); `jwt_secret` the gateway's (default: one of the site's own, so a
    token of one site is refused at another; `api()` signs with it)."""

    def __init__(self, name: str, regions=(), *, figures_interval: float = 1, remote_figures_max_age: float = 30,
                 db_pool: int = 2, jwt_secret: str | None = None, together: bool = False,
                 extra_env: dict | None = None):
        self.name = name
        self.regions = tuple(regions)
        self.together = together
        self.jwt_secret = jwt_secret or f"pitlane-test-site-{name}-{uuid.uuid4().hex}"
        self.services: list[SiteServiceProcess] = []
        self.gateway: SiteGateway | None = None
        self.started_in = None  # seconds start() took
        self._removed = False
        self.rabbit = self.postgres = self.dir = None
        try:
            self.dir = Path(tempfile.mkdtemp(prefix=f"pitlane-site-{name}-"))
            faults.CREATED.append(self.dir)  # tests/faults' check that nothing is left covers it too
            self.rabbit = faults.PrivateRabbit(plugins=SHOVEL_PLUGINS)
            with open(self.rabbit.dir / "rabbitmq.conf", "a") as conf:  # the management API's queue depths
                conf.write("collect_statistics_interval = 500\n")     # 0.5 s old at most, not 5 s
            self.postgres = faults.PrivatePostgres()
        except BaseException:
            self.remove()
            raise
        _LIVE.add(self)
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.amqp_uri = f"{self.rabbit.amqp_base}/"  # kombu's: the default vhost "/"
        self.dsn = f"{self.postgres.base}/pitlane"
        self.env = self._environment(figures_interval, remote_figures_max_age, db_pool, extra_env or {})

    @property
    def shovel_uri(self) -> str:
        """This site's broker as a shovel's dest-uri names it (the AMQP URI spec: %2F is the vhost "/",
        a bare trailing slash would be the empty vhost)."""
        return f"{self.rabbit.amqp_base}/%2F"

    def _environment(self, figures_interval, remote_figures_max_age, db_pool, extra_env) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in NOT_INHERITED and not k.startswith(NOT_INHERITED_PREFIXES)
               and not (k.startswith("PITLANE_") and k.endswith("_DSN"))}
        for key, value in FAST.items():
            env.setdefault(key, value)
        env.update({
            "PITLANE_AMQP_URI": self.amqp_uri,
            "PITLANE_RABBIT_API": self.rabbit.api,
            "PITLANE_DSN": self.dsn,
            "PITLANE_SITE": self.name,
            "PITLANE_SITE_REGIONS": ",".join(self.regions),
            "PITLANE_SITE_FIGURES_INTERVAL": str(figures_interval),
            "PITLANE_REMOTE_FIGURES_MAX_AGE": str(remote_figures_max_age),
            "PITLANE_DB_POOL": str(db_pool),
            "PITLANE_GATEWAY_DB_POOL": "2",
            "PITLANE_PROCESSES": "1",
            "PITLANE_QUEUE_TYPE": "classic",
            "PITLANE_JWT_SECRET": self.jwt_secret,
            "PITLANE_PUBLIC_URL": self.url,
            "PITLANE_STATE_DIR": str(self.dir / "state"),
            **{k: str(v) for k, v in extra_env.items()},
        })
        return env

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, timeout: float = 120.0):
        """Node and cluster (side by side), the database, the topology, every service, the gateway: all
        ready when it returns."""
        if self._removed:
            raise RuntimeError(f"site {self.name} was removed")
        started = time.monotonic()
        parallel(self.rabbit.start, self.postgres.start)
        self._index()
        from shared.storage.migrate import ensure_database

        ensure_database(self.dsn)
        self.cli("topology", "--no-list", module="pitlane.cli")  # as `pitlane run` does, with the site's env
        self.start_services(timeout)
        self.started_in = time.monotonic() - started
        return self

    def start_services(self, timeout: float = 120.0):
        """Every service and the gateway (again, after stop_services)."""
        if self.services or self.gateway:
            raise RuntimeError(f"site {self.name}: its services are running")
        names = (*SERVICES, *INTEGRATIONS)
        for group in ([names] if self.together else [(n,) for n in names]):
            self.services.append(SiteServiceProcess(self.name, *group, env=self.env).start())
        deadline = time.monotonic() + timeout
        for process in self.services:
            process.wait_ready(timeout=max(deadline - time.monotonic(), 1))
        self.gateway = SiteGateway(self.name, self.gateway_port, self.env, self.dir / "gateway-metrics")
        self.gateway.start()
        return self

    def stop_services(self):
        """The gateway and every service process stop; the node and the cluster keep running."""
        gateway, self.gateway = self.gateway, None
        services, self.services = self.services, []
        try:
            if gateway is not None:
                gateway.stop()
        finally:
            ServiceProcess.stop_all([p for p in services if p.proc is not None])

    def remove(self):
        """Everything of the site goes: processes, node, cluster, temp dir (logs kept). Idempotent."""
        if self._removed:
            return
        self._removed = True
        errors = []
        for step in (self.stop_services, getattr(self.rabbit, "remove", None), getattr(self.postgres, "remove", None),
                     lambda: self.dir and shutil.rmtree(self.dir, ignore_errors=True)):
            if step is None:
                continue
            try:
                step()
            except Exception as exc:  # the other steps run all the same
                errors.append(exc)
        _LIVE.discard(self)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.remove()

    def _index(self):
        LOGS.mkdir(exist_ok=True)
        with open(LOGS / "sites.log", "a") as index:
            index.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} site {self.name} (pid {os.getpid()}): "
                        f"rabbitmq-{self.rabbit.id} on {self.rabbit.port}, postgres-{self.postgres.id} on "
                        f"{self.postgres.port}, gateway {self.url}, logs site-{self.name}-*\n")

    # -- using it ------------------------------------------------------------------------------------------
    def api(self, role: str, subject: str | None = None, **scope) -> SiteApi:
        """A caller of this site's gateway with `role` (and branch_id / region_id)."""
        return SiteApi.for_site(self.url, self.jwt_secret, role, subject, **scope)

    def healthz(self) -> requests.Response:
        return requests.get(self.url + "/healthz", timeout=10)

    def rabbit_api(self, path: str, method: str = "GET", **kwargs) -> requests.Response:
        """The management API of the site's node, e.g. rabbit_api("/shovels")."""
        return requests.request(method, f"http://127.0.0.1:{self.rabbit.management_port}/api{path}",
                                auth=("guest", "guest"), timeout=10, **kwargs)

    def queue(self, name: str) -> dict | None:
        """A queue of the site's node (messages, consumers, ...), or None if it does not exist."""
        from urllib.parse import quote

        response = self.rabbit_api(f"/queues/%2F/{quote(name, safe='')}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def queue_depth(self, name: str) -> int | None:
        """Messages ready in a queue of the site's node, now (AMQP passive declare; the management API's
        figures are up to collect_statistics_interval old), or None if it does not exist."""
        import amqp.exceptions
        import kombu

        with kombu.Connection(self.amqp_uri, connect_timeout=5) as conn:
            try:
                return conn.default_channel.queue_declare(name, passive=True).message_count
            except amqp.exceptions.NotFound:
                return None

    def shovels(self) -> list[dict]:
        """The shovels of the site's node and their state (rabbitmq_shovel_management)."""
        response = self.rabbit_api("/shovels")
        response.raise_for_status()
        return response.json()

    def cli(self, *args: str, module: str = "pitlane", timeout: float = 120.0) -> subprocess.CompletedProcess:
        """`python -m <module> <args>` with the site's env in the repository; fails unless it exits 0."""
        result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"site {self.name}: `{module} {' '.join(args)}` exited {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result

    def __repr__(self):
        return f"<Site {self.name} regions={','.join(self.regions)} {self.url}>"


def link(site: Site, other_name: str, remote_uri: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`pitlane sites link <other_name> <remote_uri>` at `site` (its env): the queue to the other site, its
    binding and the shovel to `remote_uri`. Fails unless the command exits 0."""
    result = subprocess.run([*CLI, "sites", "link", other_name, remote_uri, *args], cwd=ROOT, env=site.env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"`pitlane sites link {other_name} {remote_uri}` at {site.name} exited "
                             f"{result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


class SiteLink:
    """The WAN between two sites: a proxy per direction, each in front of the other site's AMQP port."""

    def __init__(self, north: Site, south: Site):
        self.north, self.south = north, south
        self.north_to_south = LinkProxy(("127.0.0.1", south.rabbit.port), name=f"link-{north.name}-to-{south.name}")
        try:
            self.south_to_north = LinkProxy(("127.0.0.1", north.rabbit.port), name=f"link-{south.name}-to-{north.name}")
        except BaseException:
            self.north_to_south.close()
            raise

    @property
    def proxies(self) -> tuple[LinkProxy, LinkProxy]:
        return (self.north_to_south, self.south_to_north)

    @staticmethod
    def uri(proxy: LinkProxy) -> str:
        """The remote broker through `proxy`, as the shovel's dest-uri."""
        return f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"

    def link(self, *args: str):
        """Each site shovels to the other through its proxy (`pitlane sites link`, with `args`, e.g.
        --reconnect-delay 1)."""
        link(self.north, self.south.name, self.uri(self.north_to_south), *args)
        link(self.south, self.north.name, self.uri(self.south_to_north), *args)

    def cut(self):
        for proxy in self.proxies:
            proxy.cut()

    def restore(self):
        for proxy in self.proxies:
            proxy.restore()

    def close(self):
        for proxy in self.proxies:
            proxy.close()


@contextmanager
def two_sites(north_regions=("NORTH",), south_regions=("SOUTH",), *, names=("north", "south"), linked=True,
              link_args=TEST_LINK_ARGS, **site_options):
    """(north, south, link): two sites started side by side, linked both ways through the link's proxies
    (with linked=True; `link_args` to `pitlane sites link`), all removed afterwards. `site_options` go to
    both Sites (figures_interval, remote_figures_max_age, db_pool, together, extra_env, ...)."""
    north = south = link_ = None
    try:
        north = Site(names[0], north_regions, **site_options)
        south = Site(names[1], south_regions, **site_options)
        parallel(north.start, south.start)
        link_ = SiteLink(north, south)
        if linked:
            link_.link(*link_args)
        yield north, south, link_
    finally:
        try:
            if link_ is not None:
                link_.close()
        finally:
            parallel(*(site.remove for site in (north, south) if site is not None))


def parallel(*calls):
    """Run `calls` side by side in threads; once all are done, raise the first error if any."""
    errors = []

    def run(call):
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@atexit.register
def _remove_left_sites():
    for site in list(_LIVE):
        try:
            site.remove()
        except Exception:
            pass

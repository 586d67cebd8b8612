"""PostgreSQL connections: the budget of each process (docs/reliability.md, "Connection budget") and
the way past it, PgBouncer in transaction mode (docs/scaling.md, "PgBouncer")."""
import configparser

import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict

from pitlane import SERVICE_CLASSES
from pitlane.cli import main
from shared import config
from shared.storage.db import Pool

MAX_CONNECTIONS, SUPERUSER_RESERVE, TESTS = 100, 3, 10


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("PITLANE_DB_POOL", "PITLANE_PROCESSES", "PITLANE_GATEWAY_DB_POOL", "PITLANE_GATEWAY_WORKERS",
                 "PITLANE_PGBOUNCER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def pools_of_a_service_process(monkeypatch) -> list[tuple[str, int]]:
    """The pools one process of each service opens, sized as the code sizes them (no database)."""
    import shared.storage.dependencies as dependencies
    from pitlane import all_service_classes

    sizes = []

    class CountingPool:
        def __init__(self, dsn, schema, size=8, **kwargs):
            sizes.append((schema, size))

    monkeypatch.setattr(dependencies, "Pool", CountingPool)
    monkeypatch.setattr(dependencies, "ensure_database", lambda dsn: None)
    monkeypatch.setattr(dependencies, "migrate", lambda *args, **kwargs: [])

    class Container:
        def __init__(self, cls):
            self.service_name, self.service_cls, self.config = cls.name, cls, {"AMQP_URI": config.amqp_uri()}

    for cls in all_service_classes():
        declared = next(v for k in cls.__mro__ for v in vars(k).values() if isinstance(v, dependencies.Database))
        database = dependencies.Database(declared.pool_size)
        database.container = Container(cls)
        database.setup()
    return sizes


def test_one_process_per_service_gets_four_connections_for_its_units_of_work_and_more_processes_two_each(clean_env):
    assert [config.units_of_work_connections(n) for n in (1, 2, 3, 8)] == [4, 2, 2, 2]
    assert config.db_pool_size() == 4
    clean_env.setenv("PITLANE_PROCESSES", "2")
    assert config.db_pool_size() == 2
    clean_env.setenv("PITLANE_DB_POOL", "3")  # still the operator's to set
    assert config.db_pool_size() == 3


def test_a_service_process_opens_its_units_of_work_pool_and_one_connection_for_rpc_replies(clean_env):
    clean_env.setenv("PITLANE_PROCESSES", "2")
    sizes = pools_of_a_service_process(clean_env)
    assert len(sizes) == 2 * len(SERVICE_CLASSES)
    assert sorted({size for _, size in sizes}) == [1, 2]  # units of work 2, RPC replies 1
    assert sum(size for _, size in sizes) == len(SERVICE_CLASSES) * (2 + 1)


def test_a_stack_of_two_processes_per_service_fits_twice_in_postgresqls_100_beside_the_tests(clean_env):
    """Two processes of each service (the five after-sales ones and webhooks) and the gateway's two
    workers, twice (a second stack: `make test` beside `make run`), the superusers' reserve and ten
    for the tests."""
    import gateway.store

    clean_env.setenv("PITLANE_PROCESSES", "2")
    services = sum(size for _, size in pools_of_a_service_process(clean_env)) * 2  # per process, two each
    gateway_pools = []
    clean_env.setattr(gateway.store, "Pool", lambda dsn, schema, size=8, **kw: gateway_pools.append(size))
    clean_env.setattr(gateway.store, "ensure_database", lambda dsn: None)
    clean_env.setattr(gateway.store, "migrate", lambda *args, **kwargs: [])
    gateway.store.GatewayStore()
    one_stack = services + 2 * gateway_pools[0]  # PITLANE_GATEWAY_WORKERS: 2
    assert one_stack == config.stack_connections(2) == 42
    assert 2 * one_stack + SUPERUSER_RESERVE + TESTS <= MAX_CONNECTIONS


def test_one_process_per_service_is_the_smaller_stack_and_three_no_longer_fit_twice():
    assert config.stack_connections(1) == 36
    assert 2 * config.stack_connections(3) + SUPERUSER_RESERVE + TESTS > MAX_CONNECTIONS  # PgBouncer's turn
    # through PgBouncer at its default pool size, a stack holds 7 x 5 connections however many processes run
    assert (len(SERVICE_CLASSES) + 1) * 5 <= config.stack_connections(2)


def test_through_pgbouncer_a_pool_connects_to_its_schemas_alias_without_options_and_prepares_nothing(clean_env):
    dsn = "postgresql://postgres@db.example:5433/pitlane"
    direct = Pool(dsn, "booking").connect_arguments()
    assert direct["conninfo"] == dsn and direct["options"] == "-c search_path=booking,public"
    assert "prepare_threshold" not in direct  # psycopg's own: prepared after 5 runs

    clean_env.setenv("PITLANE_PGBOUNCER", "127.0.0.1:6432")
    through = Pool(dsn, "booking").connect_arguments()
    assert "options" not in through and through["prepare_threshold"] is None
    assert conninfo_to_dict(through["conninfo"]) == {"host": "127.0.0.1", "port": "6432", "user": "postgres",
                                                     "dbname": "pitlane__booking"}
    assert {k: v for k, v in through.items() if k not in ("conninfo", "prepare_threshold")} == {
        k: v for k, v in direct.items() if k not in ("conninfo", "options")}
    assert "options" in Pool(dsn, "booking", pgbouncer="").connect_arguments()  # straight, whatever the env says


def test_pgbouncer_config_gives_each_schema_a_database_that_sets_its_search_path_in_transaction_mode(clean_env, tmp_path):
    clean_env.setenv("PITLANE_DSN", "postgresql://postgres@127.0.0.1:5432/pitlane")
    clean_env.setenv("PITLANE_GATEWAY_DSN", "postgresql://postgres@10.0.0.9:5432/front")
    result = CliRunner().invoke(main, ["pgbouncer-config", "--port", "7432", "--dir", str(tmp_path / "pgb")])
    assert result.exit_code == 0, result.output
    assert "export PITLANE_PGBOUNCER=127.0.0.1:7432" in result.output and "pgbouncer -d" in result.output

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(tmp_path / "pgb" / "pgbouncer.ini")
    settings = ini["pgbouncer"]
    assert settings["pool_mode"] == "transaction" and settings["listen_port"] == "7432"
    assert settings["listen_addr"] == "127.0.0.1" and settings["server_reset_query"] == ""
    assert settings["auth_type"] == "trust" and settings["ignore_startup_parameters"] == "extra_float_digits"
    assert settings["default_pool_size"] == settings["max_db_connections"] == "5"
    databases = ini["databases"]
    assert sorted(databases) == sorted([f"pitlane__{s}" for s in SERVICE_CLASSES] + ["front__gateway"])
    assert databases["pitlane__crm"] == ("host=127.0.0.1 port=5432 dbname=pitlane"
                                         " connect_query='SET search_path TO \"crm\", public'")
    assert databases["front__gateway"].startswith("host=10.0.0.9 port=5432 dbname=front ")
    assert (tmp_path / "pgb" / "userlist.txt").read_text() == '"postgres" ""\n'

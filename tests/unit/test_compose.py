"""docker-compose.yml cannot run here (no Docker engine); check it describes the local stack."""
import re
from pathlib import Path

import yaml

from pitlane import SERVICE_CLASSES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_runs_with_the_local_command():
    for name in SERVICE_CLASSES:
        assert COMPOSE["services"][name]["command"] == ["python", "-m", "pitlane.serve", name]
    assert COMPOSE["services"]["gateway"]["command"] == ["python", "-m", "gateway"]


def test_setup_runs_migrations_and_topology_before_services():
    assert "pitlane migrate" in COMPOSE["services"]["setup"]["command"]
    assert "pitlane topology" in COMPOSE["services"]["setup"]["command"]
    for name in SERVICE_CLASSES:
        assert COMPOSE["services"][name]["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_environment_names_are_the_ones_the_code_reads():
    read = set(re.findall(r'"(PITLANE_[A-Z_]+)"', (ROOT / "shared" / "config.py").read_text()))
    for name in SERVICE_CLASSES:
        env = COMPOSE["services"][name]["environment"]
        assert set(env) <= read, set(env) - read
        assert {"PITLANE_AMQP_URI", "PITLANE_DSN"} <= set(env)


def test_rabbitmq_enables_the_plugins_the_setup_enables():
    command = COMPOSE["services"]["rabbitmq"]["command"]
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for plugin in ("rabbitmq_management", "rabbitmq_shovel", "rabbitmq_shovel_management", "rabbitmq_prometheus"):
        assert plugin in command and plugin in setup


def test_prometheus_and_grafana_mount_the_shipped_config():
    assert "./deploy/prometheus:/etc/prometheus:ro" in COMPOSE["services"]["prometheus"]["volumes"]
    assert any(v.startswith("./deploy/grafana/") for v in COMPOSE["services"]["grafana"]["volumes"])

"""The shipped Prometheus config and alert rules, checked and unit-tested by promtool."""
import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(promtool is None, reason="promtool missing: apt-get install prometheus")


def run(*args):
    result = subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@needs_promtool
def test_rules_are_valid():
    assert "SUCCESS: 11 rules found" in run("check", "rules", "rules.yml")


@needs_promtool
def test_rules_behave_as_their_unit_tests_say():
    assert "SUCCESS" in run("test", "rules", "rules_test.yml")


@needs_promtool
def test_scrape_config_is_valid():
    assert "SUCCESS" in run("check", "config", "prometheus.yml")

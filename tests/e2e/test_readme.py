"""The README's run command and its curl walk-through, executed as written.

`pitlane run --demo` (what `make run` starts once the machine is set up) is started against a
vhost and database of its own; then the README's shell block runs, unchanged but for the port.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from shared.storage.migrate import drop_database
from tests.support import infra
from tests.support.gateway import free_port

README = infra.ROOT / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    section = text[text.index("## Walk the journey with curl"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def demo_stack(run_env, tmp_path):
    vhost = os.environ["PITLANE_TEST_VHOST"] + "-readme"
    infra.create_vhost(vhost)
    dsn = run_env["dsn"] + "_readme"
    port = free_port()
    env = {**os.environ, "PITLANE_AMQP_URI": run_env["amqp"].rsplit("/", 1)[0] + "/" + vhost, "PITLANE_DSN": dsn,
           "PITLANE_GATEWAY_PORT": str(port), "PITLANE_STATE_DIR": str(tmp_path)}
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pitlane.cli", "run", "--demo"], cwd=infra.ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        infra.wait_for(lambda: b"(Ctrl-C stops)" in (tmp_path / "run.log").read_bytes() or proc.poll() is not None,
                       timeout=120, interval=0.5, message="pitlane run to come up")
        assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        yield {"port": port, "state": tmp_path, "env": env, "log": tmp_path / "run.log"}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        infra.delete_vhost(vhost)
        drop_database(dsn)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq missing: apt-get install jq")
def test_the_readme_walkthrough_runs_as_written(demo_stack):
    output = (demo_stack["log"]).read_text()
    assert "demo data: 4 branches in NORTH, SOUTH, 30 parts" in output
    assert "ADVISOR_TOKEN=" in output
    script = walkthrough().replace("source .pitlane/tokens.env", f"source {demo_stack['state']}/tokens.env")
    script = script.replace("127.0.0.1:8080", f"127.0.0.1:{demo_stack['port']}")
    started = time.monotonic()
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                            timeout=120, env=demo_stack["env"])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert '{"status":"confirmed"' in out and '{"status":"checked_in"}' in out
    assert '"parts_status":"reserved"' in out
    assert '{"status":"ready"}' in out and '"status":"delivered"' in out
    assert '{"status":"paid","balance_cents":0}' in out
    assert '"stage":"Handed over"' in out
    # 1.5 h at N1's 119.00 + pads 89.00 = 267.50, 19 % VAT 50.83
    assert '"subtotal_cents":26750,"tax_cents":5083,"total_cents":31833' in out
    assert "pitlane_sla_clocks_total" in out
    assert time.monotonic() - started < 120

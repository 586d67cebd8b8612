"""The gateway process leaves nothing behind: the metrics folder it made for itself goes with it."""
import glob
import tempfile
from pathlib import Path

from tests.support.gateway import GatewayProcess


def test_a_stopped_gateway_leaves_no_metrics_folder_behind(gateway):
    pattern = str(Path(tempfile.gettempdir()) / "pitlane-metrics-*")
    before = set(glob.glob(pattern))
    process = GatewayProcess().start()
    made = set(glob.glob(pattern)) - before
    assert len(made) == 1  # its own, while it runs
    process.stop()
    assert not set(glob.glob(pattern)) - before

"""What the benchmark prints beside each scenario about the machine: busy cores, disk stalls."""
import time

from bench.baselines import MachineWatch


def test_share_counts_everything_but_idle_and_iowait_as_busy():
    #                         user nice system idle iowait irq softirq steal
    before = MachineWatch.read("cpu  1000 0 500 4000 100 0 50 10 0 0")
    after = MachineWatch.read("cpu  1560 0 660 4150 150 0 100 40 0 0")
    # 1000 ticks passed: 150 idle and 50 iowait, so 800 busy; softirq 50, steal 30
    assert MachineWatch.share(before, after) == {"busy_pct": 80.0, "softirq_pct": 5.0, "steal_pct": 3.0}


def test_share_of_an_instant_is_zero_not_a_division_error():
    line = MachineWatch.read("cpu  1 2 3 4 5 6 7 8 0 0")
    assert MachineWatch.share(line, line) == {"busy_pct": 0.0, "softirq_pct": 0.0, "steal_pct": 0.0}


def test_stalls_count_the_syncs_over_50_ms():
    syncs = [0.0001, 0.0002, 0.051, 0.0003, 0.845, 0.05]
    assert MachineWatch.stalls(syncs) == {"syncs": 6, "stalls": 2, "longest_ms": 845.0}
    assert MachineWatch.stalls([]) == {"syncs": 0, "stalls": 0, "longest_ms": 0.0}


def test_watches_this_machine_and_leaves_no_probe_file():
    with MachineWatch(probe_interval=0.005) as machine:
        time.sleep(0.1)
    assert 0 <= machine.figures["cores"]["busy_pct"] <= 100
    assert machine.figures["disk"]["syncs"] > 0
    assert not MachineWatch.PROBE.exists()

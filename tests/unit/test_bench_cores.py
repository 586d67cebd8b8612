"""The machine's share of busy cores that the benchmark prints beside each scenario."""
from bench.baselines import CoresBusy


def test_share_counts_everything_but_idle_and_iowait_as_busy():
    #                      user nice system idle iowait irq softirq steal
    before = CoresBusy.read("cpu  1000 0 500 4000 100 0 50 10 0 0")
    after = CoresBusy.read("cpu  1560 0 660 4150 150 0 100 40 0 0")
    # 1000 ticks passed: 150 idle and 50 iowait, so 800 busy; softirq 50, steal 30
    assert CoresBusy.share(before, after) == {"busy_pct": 80.0, "softirq_pct": 5.0, "steal_pct": 3.0}


def test_share_of_an_instant_is_zero_not_a_division_error():
    line = CoresBusy.read("cpu  1 2 3 4 5 6 7 8 0 0")
    assert CoresBusy.share(line, line) == {"busy_pct": 0.0, "softirq_pct": 0.0, "steal_pct": 0.0}


def test_reads_this_machine():
    with CoresBusy() as cores:
        sum(i * i for i in range(200_000))
    assert 0 <= cores.figures["busy_pct"] <= 100
    assert set(cores.figures) == {"busy_pct", "softirq_pct", "steal_pct"}

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


def test_process_cpu_charges_each_process_its_own_time_and_counts_a_group_that_started_meanwhile():
    import os
    import subprocess
    import sys

    from bench.baselines import ProcessCpu

    marker = "pitlane-cpu-probe-marker"
    spin = ("import sys, time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
            f"print('spun', flush=True)\nsys.stdin.read()  # {marker}")
    with ProcessCpu({"me": os.getpid(), "late": marker}) as cpu:
        end = time.process_time() + 0.2
        while time.process_time() < end:  # this process works 0.2 s ...
            pass
        # ... and a process that did not exist when the watch began works 0.3 s, and is still there
        child = subprocess.Popen([sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "spun"
    child.communicate("")
    assert cpu.ms["me"] >= 150  # /proc counts in ticks of 10 ms
    assert cpu.ms[ProcessCpu.OWN] >= 150
    assert cpu.ms["late"] >= 250
    per = cpu.per_unit(2)
    assert per["late"] == round(cpu.ms["late"] / 2, 3)
    assert per["all"] == round(sum(cpu.ms.values()) / 2, 3)
    assert ProcessCpu({}).per_unit(0) == {"all": 0.0}  # no units and nothing watched: no division error


def test_the_table_prints_cpu_per_unit_only_when_it_was_measured():
    from bench.__main__ import cpu_line

    per = {"booking": 1.1, "gateway-worker-1": 0.5, "load generator": 0.1, "all": 1.7}
    assert cpu_line({"cpu_ms_per_unit": per}, "booking") == [
        "  CPU ms per booking: 1.7 (booking 1.1, gateway-worker-1 0.5, load generator 0.1)"]
    assert cpu_line({}, "booking") == []


def test_the_cost_of_the_bus_is_not_rounded_into_its_target():
    from bench.__main__ import _compare
    from bench.scenarios import bus_ratio

    assert bus_ratio(396.4, 1000.0) == 0.396
    assert not _compare(bus_ratio(396.4, 1000.0), ">=", 0.4)
    assert _compare(bus_ratio(404.0, 1000.0), ">=", 0.4)

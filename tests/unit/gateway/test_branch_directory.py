"""The gateway's branch -> region directory: kept a minute, but a region's coordinators act for a new
branch at once."""
from gateway import rpc


def directory_over(monkeypatch, branches):
    asked = []

    def call(service, method, *args, **kwargs):
        asked.append((service, method))
        return list(branches)

    monkeypatch.setattr(rpc, "call", call)
    return rpc.BranchDirectory(), asked


def test_a_region_not_seen_yet_is_asked_for_again_at_once(monkeypatch):
    branches = [{"branch_id": "N1", "region_id": "NORTH"}]
    directory, asked = directory_over(monkeypatch, branches)
    assert directory.of_region("NORTH") == ["N1"] and len(asked) == 1
    branches.append({"branch_id": "S1", "region_id": "SOUTH"})  # made through another gateway process
    assert directory.of_region("SOUTH") == ["S1"] and len(asked) == 2
    assert directory.of_region("NORTH") == ["N1"] and len(asked) == 2  # kept


def test_a_branch_written_through_this_gateway_is_seen_at_once(monkeypatch):
    branches = [{"branch_id": "N1", "region_id": "NORTH"}]
    directory, asked = directory_over(monkeypatch, branches)
    directory.of_region("NORTH")
    branches.append({"branch_id": "N2", "region_id": "NORTH"})
    directory.forget()
    assert directory.of_region("NORTH") == ["N1", "N2"]

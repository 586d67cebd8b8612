"""The demo data loads through the services and can be loaded twice without duplicates."""
from pitlane import demo


def test_demo_loads_and_loading_twice_changes_nothing(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    first = demo.load(rpc)
    assert first["branches"] == ["N1", "N2", "S1", "S2"] and first["regions"] == ["NORTH", "SOUTH"]
    assert first["parts"] == 30

    def snapshot():
        stock = rpc.parts.list_stock({"limit": 200})["items"]
        customers = rpc.crm.list_customers({"limit": 200})["items"]
        vehicles = rpc.crm.list_vehicles({"limit": 200})["items"]
        return ({(s["branch_id"], s["part_number"]): s["on_hand"] for s in stock if s["branch_id"] in first["branches"]},
                sorted(c["name"] for c in customers if c["branch_id"] in first["branches"]),
                sorted(v["vin"] for v in vehicles if v["branch_id"] in first["branches"]))

    stock, customers, vehicles = snapshot()
    assert len(stock) == 4 * 30 and all(on_hand > 0 for on_hand in stock.values())
    assert len(customers) == 5 and len(vehicles) == 6
    assert len(rpc.parts.list_parts({"limit": 200})["items"]) >= 30
    demo.load(rpc)
    assert snapshot() == (stock, customers, vehicles)

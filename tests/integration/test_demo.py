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


def test_loading_the_demo_again_keeps_what_a_user_changed(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    demo.load(rpc)
    branch = rpc.booking.get_branch("N2")
    rpc.booking.configure_branch({**{k: branch[k] for k in ("region_id", "name", "timezone", "business_hours",
                                                            "holidays", "labour_rate_cents", "tax_rate_bp",
                                                            "slot_minutes")},
                                  "branch_id": "N2", "bays": 9, "name": "Bremen Mitte (renovated)"})
    part = rpc.parts.get_part("WPR-BLD-SET")
    rpc.parts.catalogue_part({**{k: part[k] for k in ("part_number", "description", "origin", "warranty_months",
                                                      "warranty_km")}, "price_cents": 4500})
    rpc.parts.set_thresholds({"branch_id": "S1", "part_number": "FLT-OIL-01", "reorder_point": 2, "safety_stock": 1})

    demo.load(rpc)
    branch = rpc.booking.get_branch("N2")
    assert (branch["bays"], branch["name"]) == (9, "Bremen Mitte (renovated)")
    assert rpc.parts.get_part("WPR-BLD-SET")["price_cents"] == 4500
    stock = rpc.parts.get_stock("S1", "FLT-OIL-01")
    assert (stock["reorder_point"], stock["safety_stock"]) == (2, 1)

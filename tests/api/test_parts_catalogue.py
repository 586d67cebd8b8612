"""The parts catalogue through the gateway: warranty terms by kind unless the supplier's are
given, approved substitutes with their differences (and what a branch has of them), fitment by model,
a short repair order offered the substitutes its branch has, and a quote line showing its part's
origin and warranty."""
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_rules import approve, coordinator, opened_order, receive
from tests.support.bus import EventRecorder
from tests.support.journey import until


def catalogued(api, origin="oem", status=201, **extra) -> dict:
    number = f"PC-{uuid.uuid4().hex[:8].upper()}"
    return api.ok("POST", "/parts", {"part_number": number, "description": f"catalogue probe {origin}",
                                     "origin": origin, "price_cents": 4200, **extra}, status=status)


def stocked_at(admin, branch_id, part, quantity):
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": quantity}),
          lambda r: r.status_code == 201, what=f"parts to know {branch_id}")


# -- warranty terms ------------------------------------------------------------------------------------------
def test_a_part_takes_its_warranty_terms_by_kind_unless_the_supplier_gives_its_own(admin):
    def terms(part):
        return part["warranty_months"], part["warranty_km"], part["warranty_source"]

    oem, alternative = catalogued(admin, "oem"), catalogued(admin, "alternative")
    wear = catalogued(admin, "oem", wear_part=True)
    assert terms(oem) == (36, 50_000, "rule") and oem["wear_part"] is False
    assert terms(alternative) == (12, 20_000, "rule")
    assert terms(wear) == (6, None, "rule") and wear["wear_part"] is True
    supplier = catalogued(admin, "alternative", warranty_months=24, warranty_km=40_000)
    assert terms(supplier) == (24, 40_000, "supplier")
    as_before = catalogued(admin, "oem", warranty_months=12)  # the callers of before: months given, no km
    assert terms(as_before) == (12, None, "supplier")
    assert terms(admin.ok("GET", f"/parts/{wear['part_number']}")) == (6, None, "rule")

    for bad in ({"warranty_months": -1}, {"warranty_months": 1.5}, {"warranty_km": -5}, {"origin": "pirate"}):
        refused = admin.post("/parts", {"part_number": f"PC-{uuid.uuid4().hex[:8].upper()}", "description": "bad",
                                        "origin": "oem", "price_cents": 100, **bad})
        assert refused.status_code == 400, refused.text
        assert set(bad) <= set(refused.json()["error"]["fields"])


def test_a_catalogued_part_announces_its_kind_and_terms(admin):
    with EventRecorder("part.catalogued") as recorder:
        part = catalogued(admin, "alternative", wear_part=True)
        event = recorder.wait_for("part.catalogued", part_number=part["part_number"])
    assert (event["origin"], event["wear_part"], event["warranty_months"], event["warranty_km"],
            event["warranty_source"]) == ("alternative", True, 6, None, "rule")


# -- approved substitutes -----------------------------------------------------------------------------------------
def test_substitutes_are_approved_with_their_differences_and_listed_with_terms_price_and_branch_stock(
        gateway, admin, advisor):
    region_id = region()
    shop = branch(admin, region_id, "cat-sub")
    part, alt, oem2 = catalogued(admin, "oem"), catalogued(admin, "alternative"), catalogued(admin, "oem")
    p, a, o = part["part_number"], alt["part_number"], oem2["part_number"]
    north = coordinator(gateway, region_id)

    listed = north.ok("POST", f"/parts/{p}/substitutes", {"substitute_part_number": a,
                                                          "differences": "aftermarket, 1 mm thinner"}, status=201)
    assert [(s["part_number"], s["substitute_for"], s["differences"]) for s in listed] == [
        (a, p, "aftermarket, 1 mm thinner")]
    admin.ok("POST", f"/parts/{p}/substitutes", {"substitute_part_number": o, "differences": "later revision",
                                                 "both_ways": True}, status=201)
    listed = advisor.ok("GET", f"/parts/{p}/substitutes")
    assert [(s["part_number"], s["origin"], s["warranty_months"], s["warranty_km"], s["price_cents"], s["available"])
            for s in listed] == sorted([(a, "alternative", 12, 20_000, 4200, None), (o, "oem", 36, 50_000, 4200, None)])
    assert [(s["part_number"], s["differences"]) for s in admin.ok("GET", f"/parts/{o}/substitutes")] == [
        (p, "later revision")]  # both ways
    assert admin.ok("GET", f"/parts/{a}/substitutes") == []  # one way only

    stocked_at(admin, shop, a, 3)
    at_shop = {s["part_number"]: (s["branch_id"], s["available"])
               for s in advisor.ok("GET", f"/parts/{p}/substitutes", branch_id=shop)}
    assert at_shop == {a: (shop, 3), o: (shop, 0)}

    def refused(api, path, body):
        answer = api.post(path, body)
        return answer.status_code, sorted(answer.json()["error"]["fields"])

    assert refused(admin, f"/parts/{p}/substitutes", {"substitute_part_number": p, "differences": "itself"}) == (
        422, ["substitute_part_number"])
    assert refused(admin, f"/parts/{p}/substitutes", {"substitute_part_number": "PC-NOSUCHPART",
                                                      "differences": "x"}) == (422, ["substitute_part_number"])
    assert refused(admin, f"/parts/{p}/substitutes", {"substitute_part_number": a, "differences": "again"}) == (
        409, ["substitute_part_number"])
    assert refused(admin, f"/parts/{p}/substitutes", {"substitute_part_number": a}) == (400, ["differences"])
    assert refused(admin, f"/parts/{p}/substitutes", {"substitute_part_number": a, "differences": "  "}) == (
        422, ["differences"])
    assert admin.post("/parts/PC-NOSUCHPART/substitutes", {"substitute_part_number": a,
                                                           "differences": "x"}).status_code == 404
    assert advisor.post(f"/parts/{a}/substitutes", {"substitute_part_number": p,
                                                    "differences": "x"}).status_code == 403
    assert admin.get(f"/parts/{p}/substitutes", branch_id="no-such-branch").status_code == 404
    assert len(admin.ok("GET", f"/parts/{p}/substitutes")) == 2  # nothing written by the refusals


def test_two_coordinators_approving_the_same_substitute_at_once_add_it_once(gateway, admin):
    part, alt = catalogued(admin, "oem")["part_number"], catalogued(admin, "alternative")["part_number"]
    region_id = region()
    callers = [coordinator(gateway, region_id) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda api: api.post(f"/parts/{part}/substitutes", {
            "substitute_part_number": alt, "differences": "aftermarket", "both_ways": True}), callers))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert [s["part_number"] for s in admin.ok("GET", f"/parts/{part}/substitutes")] == [alt]
    assert [s["part_number"] for s in admin.ok("GET", f"/parts/{alt}/substitutes")] == [part]


# -- fitment by model ---------------------------------------------------------------------------------------------
def test_fitments_filter_the_catalogue_by_make_model_and_year(admin, advisor):
    make = f"Make{uuid.uuid4().hex[:6]}"  # a make of this test's own: other parts never fit it
    early, late, other = (catalogued(admin)["part_number"] for _ in range(3))
    fitted = admin.ok("POST", f"/parts/{early}/fitments", {"make": make, "model": "Vela", "year_from": 2012,
                                                           "year_to": 2016}, status=201)
    assert [(f["make"], f["model"], f["year_from"], f["year_to"]) for f in fitted["fitments"]] == [
        (make, "Vela", 2012, 2016)]
    admin.ok("POST", f"/parts/{late}/fitments", {"make": make, "model": "Vela", "year_from": 2017}, status=201)
    admin.ok("POST", f"/parts/{late}/fitments", {"make": make, "model": "Cirrus", "year_from": 2015,
                                                 "year_to": 2020}, status=201)
    admin.ok("POST", f"/parts/{other}/fitments", {"make": "Elsewhere", "model": "Vela", "year_from": 2010}, status=201)

    def fitting(**query):
        return sorted(p["part_number"] for p in advisor.ok("GET", "/parts", limit=200, **query)["items"])

    assert fitting(fits_make=make) == sorted([early, late])
    assert fitting(fits_make=make.upper(), fits_model="vela") == sorted([early, late])
    assert fitting(fits_make=make, fits_model="Vela", fits_year=2014) == [early]
    assert fitting(fits_make=make, fits_model="Vela", fits_year=2030) == [late]  # open-ended
    assert fitting(fits_make=make, fits_model="Cirrus", fits_year=2021) == []
    assert [f["model"] for f in advisor.ok("GET", f"/parts/{late}")["fitments"]] == ["Cirrus", "Vela"]

    def refused(body):
        answer = admin.post(f"/parts/{early}/fitments", body)
        return answer.status_code, sorted(answer.json()["error"]["fields"])

    assert refused({"make": make, "model": "Vela", "year_from": 2016, "year_to": 2014}) == (422, ["year_to"])
    assert refused({"make": make, "model": "Vela", "year_from": 2014.5}) == (400, ["year_from"])
    assert refused({"make": make, "model": "Vela", "year_from": 1500}) == (400, ["year_from"])
    assert refused({"make": " ", "model": "Vela", "year_from": 2014}) == (422, ["make"])
    assert refused({"make": make.lower(), "model": "VELA", "year_from": 2012, "year_to": 2016})[0] == 409
    assert admin.post("/parts/PC-NOSUCHPART/fitments", {"make": make, "model": "Vela",
                                                        "year_from": 2014}).status_code == 404
    assert advisor.post(f"/parts/{early}/fitments", {"make": make, "model": "Vela",
                                                     "year_from": 2014}).status_code == 403
    for hostile in ({"fits_year": "twenty"}, {"fits_year": "1e400"}, {"fits_make": "\u0000"}, {"fits_model": "x" * 100}):
        assert advisor.get("/parts", **hostile).status_code == 400, hostile
    assert len(admin.ok("GET", f"/parts/{early}")["fitments"]) == 1  # nothing written by the refusals


# -- a short order is offered a substitute ------------------------------------------------------------------------
def test_a_short_order_is_offered_the_approved_substitutes_its_branch_has_enough_of(admin, world):
    shop = world["branch"]
    part, plenty, few = (catalogued(admin, origin)["part_number"] for origin in ("oem", "alternative", "oem"))
    admin.ok("POST", f"/parts/{part}/substitutes", {"substitute_part_number": plenty,
                                                    "differences": "aftermarket brand"}, status=201)
    admin.ok("POST", f"/parts/{part}/substitutes", {"substitute_part_number": few,
                                                    "differences": "older revision"}, status=201)
    receive(admin, shop, plenty, 5)
    receive(admin, shop, few, 1)

    ro = opened_order(admin, shop)
    admin.ok("POST", f"/repair-orders/{ro}/diagnosis", {"findings": [{"description": "pads worn", "status": "red"}]})
    quote = until(lambda: admin.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "part", "group": "must", "description": "the part", "part_number": part, "quantity": "2"}]}),
        lambda r: r.status_code == 201, what="the part's price in workshop").json()
    with EventRecorder("parts.shortage") as recorder:
        approve(admin, ro, quote)
        shortage = recorder.wait_for("parts.shortage", repair_order_id=ro)
    assert shortage["lines"] == [{"part_number": part, "requested": 2, "available": 0, "substitutes": [
        {"part_number": plenty, "available": 5, "differences": "aftermarket brand"}]}]


# -- a quote line shows origin and warranty -----------------------------------------------------------------------
def test_a_quote_shows_each_part_lines_origin_and_warranty(admin, world):
    shop = world["branch"]
    oem = catalogued(admin, "oem")["part_number"]
    alternative = catalogued(admin, "alternative", warranty_months=18)["part_number"]  # the supplier's own terms
    ro = opened_order(admin, shop)
    admin.ok("POST", f"/repair-orders/{ro}/diagnosis", {"findings": [{"description": "pads worn", "status": "red"}]})
    answer = until(lambda: admin.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "part", "group": "must", "description": "OEM pads", "part_number": oem, "quantity": "1"},
        {"kind": "part", "group": "must", "description": "alternative disc", "part_number": alternative,
         "quantity": "2"},
        {"kind": "labour", "group": "must", "description": "fit them", "quantity": "1.5"}]}),
        lambda r: r.status_code == 201, what="both parts' prices and terms in workshop")
    quote = answer.json()

    def shown(lines):
        return [(l["description"], l["origin"], l["warranty"]) for l in lines]

    expected = [("OEM pads", "oem", {"months": 36, "km": 50_000}),
                ("alternative disc", "alternative", {"months": 18, "km": None}),
                ("fit them", None, None)]
    assert shown(quote["lines"]) == expected
    approve(admin, ro, quote)
    order = admin.ok("GET", f"/repair-orders/{ro}")
    assert shown(order["quote"]["lines"]) == expected
    customer = admin.ok("GET", f"/self-service/repair-orders/{order['number']}", plate=order["plate"])
    assert shown(customer["approved_lines"]) == expected

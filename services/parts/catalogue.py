"""Catalogue rules, no I/O: a part's warranty terms by kind, approved substitutes and fitment by model,
and which approved substitutes a branch could give a repair order that is short of a part."""
from dataclasses import dataclass

from shared.domain import RuleBroken, StateConflict

# domain.md s5: the warranty a part carries when its supplier gives no terms of its own.
# A wear part (pads, wipers, filters) wears out with use: 6 months, whatever its origin, and no km.
OEM_TERMS = (36, 50_000)
ALTERNATIVE_TERMS = (12, 20_000)
WEAR_PART_TERMS = (6, None)
RULE, SUPPLIER = "rule", "supplier"  # where a part's warranty terms came from


@dataclass(frozen=True)
class WarrantyTerms:
    months: int
    km: int | None  # None: no distance limit
    source: str  # RULE or SUPPLIER


def default_terms(origin: str, wear_part: bool = False) -> tuple[int, int | None]:
    """The terms the rule gives: wear parts 6 months, else OEM 36 months or 50,000 km, a certified
    alternative 12 months or 20,000 km."""
    if wear_part:
        return WEAR_PART_TERMS
    return OEM_TERMS if origin == "oem" else ALTERNATIVE_TERMS


def warranty_terms(origin: str, wear_part: bool = False, months: int | None = None,
                   km: int | None = None) -> WarrantyTerms:
    """A part's warranty: the supplier's own terms when warranty_months is given (taken as given, km
    too: none when left out, as POST /parts always took them), else the rule's by kind; a km given
    without months replaces only the rule's distance."""
    if months is not None:
        return WarrantyTerms(months, km, SUPPLIER)
    rule_months, rule_km = default_terms(origin, wear_part)
    if km is not None:
        return WarrantyTerms(rule_months, km, SUPPLIER)
    return WarrantyTerms(rule_months, rule_km, RULE)


# -- approved substitutes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Substitution:
    """`substitute_part_number` may be fitted where `part_number` is wanted; `differences` says how it
    differs (the advisor tells the customer)."""

    part_number: str
    substitute_part_number: str
    differences: str


def approve_substitute(part_number: str, substitute_part_number: str, differences: str, both_ways: bool = False,
                       approved=frozenset()) -> list[Substitution]:
    """The substitutions an approval makes: the pair, and its reverse when `both_ways` (same differences).
    A part is never its own substitute; a pair approved already (`approved`: a set of (part,
    substitute)) is a conflict, not a second row, so that its differences are never silently replaced."""
    if part_number == substitute_part_number:
        raise RuleBroken("a part is not its own substitute", substitute_part_number="must differ from the part")
    differences = (differences or "").strip()
    if not differences:
        raise RuleBroken("a substitute is approved with its differences", differences="say how it differs")
    pairs = [(part_number, substitute_part_number)] + ([(substitute_part_number, part_number)] if both_ways else [])
    taken = [p for p in pairs if p in approved]
    if taken:
        raise StateConflict("substitute already approved", substitute_part_number=", ".join(
            f"{s} is approved for {p} already" for p, s in taken))
    return [Substitution(p, s, differences) for p, s in pairs]


def substitutes_for_short_line(requested: int, substitutes) -> list[dict]:
    """The approved substitutes of a short line that its branch has in enough quantity to fit instead
    (available >= the quantity the line wants), most available first: what the advisor may offer."""
    enough = [s for s in substitutes or () if s["available"] >= requested]
    return [{"part_number": s["part_number"], "available": s["available"], "differences": s["differences"]}
            for s in sorted(enough, key=lambda s: (-s["available"], s["part_number"]))]


# -- fitment by model ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fitment:
    part_number: str
    make: str
    model: str
    year_from: int
    year_to: int | None  # None: still fits current models


def fitment(part_number: str, make: str, model: str, year_from: int, year_to: int | None = None) -> Fitment:
    """A part fits a make and model from one model year, to another or still; a range ends no earlier
    than it starts."""
    make, model = (make or "").strip(), (model or "").strip()
    if not make:
        raise RuleBroken("a fitment names the make", make="must not be blank")
    if not model:
        raise RuleBroken("a fitment names the model", model="must not be blank")
    if year_to is not None and year_to < year_from:
        raise RuleBroken("a fitment ends no earlier than it starts", year_to=f"must be at least year_from ({year_from})")
    return Fitment(part_number, make, model, year_from, year_to)


def fits(f: dict, make: str | None = None, model: str | None = None, year: int | None = None) -> bool:
    """Whether a fitment matches a search: make and model without regard to case, a year within its range."""
    if make is not None and f["make"].casefold() != make.strip().casefold():
        return False
    if model is not None and f["model"].casefold() != model.strip().casefold():
        return False
    if year is not None and (year < f["year_from"] or (f["year_to"] is not None and year > f["year_to"])):
        return False
    return True

"""Keyset (cursor) pagination: stable while rows are added or removed, no skipped or repeated rows."""
import base64
import json
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import errors

MAX_LIMIT = 200


def encode(row: dict, key: str) -> str:
    raw = json.dumps([row["created_at"].isoformat(), str(row[key])])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created_at), key
    except Exception:
        raise errors.ValidationFailed("invalid cursor", {"cursor": ["not a cursor this API issued"]}) from None


def page(tx, sql: str, params: list, key: str, cursor: str | None, limit: int) -> dict:
    """Run `sql` (a SELECT with a WHERE clause, no ORDER BY) one page at a time.

    Rows come newest-last in (created_at, key) order; the cursor is the last row's sort key,
    so rows inserted later land after it and rows deleted meanwhile cannot shift the page.
    """
    limit = max(1, min(int(limit or 50), MAX_LIMIT))
    params = list(params)
    if cursor:
        created_at, last = decode(cursor)
        sql += f" AND (created_at, {key}) > (%s, %s)"
        params += [created_at, last]
    sql += f" ORDER BY created_at, {key} LIMIT %s"
    params.append(limit + 1)
    rows = tx.all(sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1], key) if more else None}


def where(filters: dict, columns=(), time_column: str = "created_at") -> tuple[str, list]:
    """The WHERE clause of a list: scope (branch, branches, region), status, a time window, and
    equality on the named extra columns. Starts with `WHERE true` so more can be ANDed on."""
    sql, params = " WHERE true", []
    for column in ("branch_id", "status", *columns):
        if filters.get(column) is not None:
            sql += f" AND {column} = %s"
            params.append(filters[column])
    if filters.get("branch_ids") is not None:
        sql += " AND branch_id = ANY(%s)"
        params.append(list(filters["branch_ids"]))
    if filters.get("region_id") is not None:
        sql += " AND branch_id IN (SELECT branch_id FROM branches WHERE region_id = %s)"
        params.append(filters["region_id"])
    if filters.get("from") is not None:
        sql += f" AND {time_column} >= %s"
        params.append(filters["from"])
    if filters.get("to") is not None:
        sql += f" AND {time_column} < %s"
        params.append(filters["to"])
    return sql, params


@dataclass(frozen=True)
class Listing:
    """One list of records as data: its SELECT (no WHERE), its key, and what it is filtered by.

    `lookups` are the filters that name another record (a customer, a repair order, a part):
    such a list reads a handful of rows among millions, so an index must serve each of them,
    and tests/integration/test_indexes.py checks that for every Listing of every service.
    `columns` are the other equality filters (a level, a policy); scope, status and the time
    window come with every list (`where`).
    """

    select: str
    key: str
    lookups: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    time_column: str = "created_at"

    def query(self, filters: dict, more: str = "", more_params=()) -> tuple[str, list]:
        """The SELECT with its WHERE clause for `filters`, and `more` ANDed on; no order, no limit."""
        sql, params = where(filters, self.lookups + self.columns, self.time_column)
        return self.select + sql + more, params + list(more_params)

    def page(self, tx, filters: dict, more: str = "", more_params=()) -> dict:
        sql, params = self.query(filters, more, more_params)
        return page(tx, sql, params, self.key, filters.get("cursor"), filters.get("limit", 50))

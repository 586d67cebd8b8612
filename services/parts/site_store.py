"""The parts schema's SQL for sites (docs/sites.md): this site's shelves as its figures send them, and the
other sites' figures kept here (parts migration 009)."""

# a remote shelf is good as of its own figures, or its site's later unbroken run of figures
REMOTE_SHELF = ("SELECT r.branch_id, r.region_id, r.available, r.safety_stock, r.site,"
                " greatest(r.as_of, rs.as_of) AS as_of FROM remote_stock r LEFT JOIN remote_sites rs USING (site)")


def shelves_changed(tx, since=None):
    """This site's shelves as its figures send them: every one, or those changed since `since`."""
    sql = ("SELECT s.branch_id, b.region_id, s.part_number, s.on_hand - s.reserved AS available, s.safety_stock"
           " FROM stock s LEFT JOIN branches b USING (branch_id)")
    if since is None:
        return tx.all(sql + " ORDER BY s.branch_id, s.part_number")
    return tx.all(sql + " WHERE s.changed_at > %s ORDER BY s.branch_id, s.part_number", (since,))


def remote_site(tx, site, lock=False):
    tx.execute("INSERT INTO remote_sites (site) VALUES (%s) ON CONFLICT DO NOTHING", (site,))
    return tx.one("SELECT * FROM remote_sites WHERE site = %s" + (" FOR UPDATE" if lock else ""), (site,))


def save_remote_site(tx, site, regions, as_of):
    tx.execute("UPDATE remote_sites SET as_of = %s, regions = %s, received_at = now() WHERE site = %s",
               (as_of, list(regions), site))


def keep_remote_shelves(tx, site, shelves, as_of):
    """Another site's shelves, each unless newer figures of it are kept already."""
    if not shelves:
        return
    tx.execute(
        "INSERT INTO remote_stock (branch_id, part_number, site, region_id, available, safety_stock, as_of)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::int[], %s::int[],"
        " %s::timestamptz[]) ON CONFLICT (branch_id, part_number) DO UPDATE SET site = EXCLUDED.site,"
        " region_id = EXCLUDED.region_id, available = EXCLUDED.available, safety_stock = EXCLUDED.safety_stock,"
        " as_of = EXCLUDED.as_of WHERE remote_stock.as_of <= EXCLUDED.as_of",
        ([s["branch_id"] for s in shelves], [s["part_number"] for s in shelves], [site] * len(shelves),
         [s["region_id"] for s in shelves], [s["available"] for s in shelves], [s["safety_stock"] for s in shelves],
         [as_of] * len(shelves)))


def remote_sites(tx):
    return tx.all("SELECT site, regions, as_of, received_at FROM remote_sites ORDER BY site")


def remote_branch(tx, branch_id):
    """Another site's branch as its figures name it (site, region), or None."""
    return tx.one("SELECT branch_id, site, region_id FROM remote_stock WHERE branch_id = %s LIMIT 1", (branch_id,))


def remote_shelf(tx, branch_id, part_number):
    return tx.one(REMOTE_SHELF + " WHERE r.branch_id = %s AND r.part_number = %s", (branch_id, part_number))

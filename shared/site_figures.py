"""What a service keeps and sends of site figures (shared migration 012, docs/sites.md): its claim of the
next publication, and the other sites' SLA figures for the group view."""
from datetime import timedelta

from psycopg.types.json import Jsonb


def claim_publication(tx, kind: str, interval: float) -> tuple | None:
    """(the previous publication's time or None, this one's) when it is this process's turn to publish
    `kind`: the interval has passed and no other process of the service is publishing it right now;
    else None. Committed with what is published, so a publication that fails is claimed again."""
    tx.execute("INSERT INTO site_publications (kind) VALUES (%s) ON CONFLICT DO NOTHING", (kind,))
    row = tx.one("SELECT as_of, now() AS now FROM site_publications WHERE kind = %s FOR UPDATE SKIP LOCKED", (kind,))
    if row is None:
        return None  # another process holds the claim
    if row["as_of"] is not None and row["as_of"] > row["now"] - timedelta(seconds=interval * 0.9):
        return None
    tx.execute("UPDATE site_publications SET as_of = %s WHERE kind = %s", (row["now"], kind))
    return row["as_of"], row["now"]


def keep_remote_sla(tx, site: str, as_of, compliance: list) -> bool:
    """Keep another site's SLA figures for this service, unless newer ones are kept already."""
    row = tx.one("INSERT INTO sla_site_figures (site, as_of, compliance) VALUES (%s, %s, %s)"
                 " ON CONFLICT (site) DO UPDATE SET as_of = EXCLUDED.as_of, compliance = EXCLUDED.compliance,"
                 " received_at = now() WHERE sla_site_figures.as_of < EXCLUDED.as_of RETURNING site",
                 (site, as_of, Jsonb(compliance)))
    return row is not None


def remote_sla(tx) -> list[dict]:
    return tx.all("SELECT site, as_of, compliance FROM sla_site_figures ORDER BY site")

"""parts across sites (docs/sites.md): this site's stock figures for the others' donor ranking, theirs
kept as a read model, and the steps of transfers between branches of two sites applied to this site's
copy. The rules are shared/sites.py's and transfers.Transfer's; here they are loaded, told and saved."""
import logging
from datetime import datetime, timedelta, timezone

from nameko.timer import timer

from services.parts import site_store, store, transfers
from shared import config, org, site_figures, sites
from shared.bus.messaging import NotYetKnown, on_site_event
from shared.bus.rpc import rpc
from shared.contracts import errors
from shared.domain import RuleBroken

log = logging.getLogger(__name__)
CHUNK = 500  # shelves per figures event
OVERLAP = 10.0  # seconds a delta reaches back before the previous figures: commits that came late
SNAPSHOT_EVERY = 10  # intervals between two figures of every shelf (a site linked since gets them all)


def fresh_now() -> dict:
    """The moment and the age limit other sites' figures are judged by (donors.rank's now and max_age)."""
    return {"now": datetime.now(timezone.utc), "max_age": config.remote_figures_max_age()}


class SiteLinks:
    @timer(interval=config.site_figures_interval())
    def publish_stock_figures(self):
        """Every interval, once across this service's processes: the shelves that changed since the last
        figures (every shelf now and then), or none, as a heartbeat that says the figures still stand."""
        site = config.site()
        if site is None:
            return
        interval = config.site_figures_interval()
        try:
            with self.db.transaction() as tx:
                claim = site_figures.claim_publication(tx, "stock", interval)
                if claim is None:
                    return
                since, as_of = claim
                if site_figures.claim_publication(tx, "stock_snapshot", min(interval * SNAPSHOT_EVERY, 600.0)):
                    since = None
                shelves = site_store.shelves_changed(tx, None if since is None else since - timedelta(seconds=OVERLAP))
                regions = sorted(config.site_regions() or ())
                for i in range(0, max(len(shelves), 1), CHUNK):
                    tx.publish("stock.site_figures", "GROUP", site=site, regions=regions, as_of=as_of,
                               since=since if i == 0 else (as_of if since is not None else None),
                               shelves=[dict(s) for s in shelves[i:i + CHUNK]])
        except errors.Unavailable as exc:
            log.warning("stock figures skipped: %s", exc)

    @on_site_event("stock.site_figures")
    def keep_stock_figures(self, tx, event_type, event):
        """Another site's figures: its shelves, each unless newer are kept; the site's figures are good
        as of these when they follow on from what is kept (shared/sites.py, RemoteSite)."""
        if event["site"] == config.site():
            return
        row = site_store.remote_site(tx, event["site"], lock=True)
        remote = sites.RemoteSite(row["site"], row["as_of"])
        site_store.keep_remote_shelves(tx, event["site"], event["shelves"], event["as_of"])
        if not remote.follows_on(event["since"]):
            log.info("figures of %s as of %s do not follow on from %s: shelves kept, the site's age stands"
                     " until its next snapshot", event["site"], event["as_of"], remote.as_of)
        elif remote.take(event["as_of"]):
            site_store.save_remote_site(tx, event["site"], event["regions"], remote.as_of)

    @on_site_event("transfer.*", type_of=lambda payload: f"transfer.{payload['step']}")
    def mirror_transfer_step(self, tx, event_type, event):
        """A step of a transfer between this site and another, taken there: applied to this site's copy,
        once (inbox) and in order (one queue for every step; a step ahead of the one it follows waits)."""
        here, step = config.site(), event_type.split(".", 1)[1]
        if here is None or here not in (event["from_site"], event["to_site"]):
            return
        if step == "requested":
            if store.transfer(tx, event["transfer_id"]) is not None:
                return
            if org.region_of(tx, event["from_branch_id"]) is None:
                raise RuleBroken("no such branch at this site", from_branch_id="unknown branch")
            self._part(tx, event["part_number"])
            transfer = transfers.Transfer.mirror_request(event, here)
            store.insert_transfer(tx, transfer)
            tx.publish_recorded(transfer)
            return
        row = store.transfer(tx, event["transfer_id"], lock=True)
        if row is None:
            raise NotYetKnown(f"transfer {event['transfer_id']} is not known here yet")
        transfer = transfers.Transfer.from_row(row, here)
        try:
            if transfer.mirror(step, event):
                self._save_transfer(tx, transfer)
        except transfers.TransferBehind as exc:
            raise NotYetKnown(str(exc)) from None

    @rpc
    def site_figures(self):
        """Each other site whose figures this site holds: as of when, and how old (for /metrics)."""
        now = datetime.now(timezone.utc)
        with self.db.read() as tx:
            return [{"site": r["site"], "as_of": r["as_of"].isoformat() if r["as_of"] else None,
                     "age_seconds": sites.age_seconds(r["as_of"], now)} for r in site_store.remote_sites(tx)]

    # -- reads: which site a branch is at ---------------------------------------------------------------------
    def _site_of_branch(self, tx, branch_id) -> str | None:
        """None for a branch of this site; the site of another site's branch known from its figures;
        NotFound for neither."""
        if org.region_of(tx, branch_id) is not None:
            return None
        remote = site_store.remote_branch(tx, branch_id) if config.site() else None
        if remote is None:
            raise errors.NotFound(f"branch {branch_id} is not known", {"branch_id": ["unknown branch"]})
        return remote["site"]

    def _region_anywhere(self, tx, branch_id) -> str | None:
        region = org.region_of(tx, branch_id)
        if region is None:
            remote = site_store.remote_branch(tx, branch_id)
            region = remote["region_id"] if remote else None
        return region

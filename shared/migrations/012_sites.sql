-- Sites (docs/sites.md): regional stacks linked by RabbitMQ shovels.
--
-- An event meant for the other sites too (shared/sites.py, crosses) is marked: the relay publishes it
-- to sites.outbound besides pitlane.events, and the shovels carry it from there.
ALTER TABLE outbox ADD COLUMN crossing boolean NOT NULL DEFAULT false;

-- What this service of each other site last said of its SLA compliance (sla.site_figures), for the
-- group view; as_of is the other site's time of the figures.
CREATE TABLE sla_site_figures (
    site        text        PRIMARY KEY,
    as_of       timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    compliance  jsonb       NOT NULL
);

-- When this service last published figures to the other sites, by kind: one publication per interval
-- across all its processes (claimed by a conditional update).
CREATE TABLE site_publications (
    kind  text        PRIMARY KEY,
    as_of timestamptz  -- none yet
);

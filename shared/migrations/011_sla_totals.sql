-- What /metrics reports of the clocks whose outcome is set (ended, or breached while still open), kept
-- as totals by (policy, branch, outcome) so a scrape reads a few rows per branch instead of every clock
-- ever kept (docs/benchmarks.md, "Round two, scale-out"). Open clocks are still counted live, through
-- partial indexes. The region is joined from branches when read: it may be configured after the clocks.
--
-- shared/sla/store.py, save(), appends each change of an outcome or an end to sla_total_moves in
-- the statement that changes the clocks; now and then a writer folds the moves into sla_totals,
-- claiming them with SKIP LOCKED. A reader adds the moves not folded yet, in the same statement.
-- Writers only append: no row that every stop of a busy branch must lock until it commits.
CREATE TABLE sla_totals (
    policy          text   NOT NULL,
    branch_id       text   NOT NULL,
    outcome         text   NOT NULL,
    clocks          bigint NOT NULL DEFAULT 0,  -- clocks with this outcome, open or ended
    safety_critical bigint NOT NULL DEFAULT 0,  -- of them, safety-critical ones
    durations       bigint NOT NULL DEFAULT 0,  -- of them, stopped met or breached: the histogram's count
    duration_sum    double precision NOT NULL DEFAULT 0,  -- their duration_seconds
    -- of those, how many ran at most N seconds: one column per bound of DURATION_BUCKETS (rules.py)
    le_300    bigint NOT NULL DEFAULT 0,
    le_900    bigint NOT NULL DEFAULT 0,
    le_1800   bigint NOT NULL DEFAULT 0,
    le_3600   bigint NOT NULL DEFAULT 0,
    le_7200   bigint NOT NULL DEFAULT 0,
    le_14400  bigint NOT NULL DEFAULT 0,
    le_28800  bigint NOT NULL DEFAULT 0,
    le_86400  bigint NOT NULL DEFAULT 0,
    le_172800 bigint NOT NULL DEFAULT 0,
    le_259200 bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (policy, branch_id, outcome)
);

-- The moves of the totals not folded yet: signed differences, one row per (policy, branch, outcome)
-- that a save changed.
CREATE TABLE sla_total_moves (
    move_id bigserial PRIMARY KEY,
    LIKE sla_totals
);

-- The history so far, counted once. No clock may change meanwhile (a process of the version
-- before this one would change it without a move).
LOCK TABLE sla_clocks IN SHARE MODE;
INSERT INTO sla_totals (policy, branch_id, outcome, clocks, safety_critical, durations, duration_sum,
    le_300, le_900, le_1800, le_3600, le_7200, le_14400, le_28800, le_86400, le_172800, le_259200)
SELECT policy, branch_id, outcome, count(*), count(*) FILTER (WHERE safety_critical), count(*) FILTER (WHERE timed),
    coalesce(sum(duration_seconds) FILTER (WHERE timed), 0),
    count(*) FILTER (WHERE timed AND duration_seconds <= 300),
    count(*) FILTER (WHERE timed AND duration_seconds <= 900),
    count(*) FILTER (WHERE timed AND duration_seconds <= 1800),
    count(*) FILTER (WHERE timed AND duration_seconds <= 3600),
    count(*) FILTER (WHERE timed AND duration_seconds <= 7200),
    count(*) FILTER (WHERE timed AND duration_seconds <= 14400),
    count(*) FILTER (WHERE timed AND duration_seconds <= 28800),
    count(*) FILTER (WHERE timed AND duration_seconds <= 86400),
    count(*) FILTER (WHERE timed AND duration_seconds <= 172800),
    count(*) FILTER (WHERE timed AND duration_seconds <= 259200)
FROM (SELECT *, state = 'stopped' AND outcome IN ('met', 'breached') AS timed FROM sla_clocks
      WHERE outcome IS NOT NULL) c
GROUP BY policy, branch_id, outcome;

-- The open clocks, which /metrics still counts live: running or paused, few whatever the history.
-- (Running ones not breached are also sla_clocks_due's, for the nearest deadline.)
CREATE INDEX sla_clocks_open ON sla_clocks (policy, branch_id) WHERE state IN ('running', 'paused');

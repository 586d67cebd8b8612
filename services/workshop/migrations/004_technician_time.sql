-- A job's clock pauses (the technician steps away, or the order goes on hold) and resumes; the time
-- clocked leaves the pauses out (domain.Job). paused_at is set while it is paused.
ALTER TABLE jobs ADD COLUMN paused_at timestamptz;
ALTER TABLE jobs ADD COLUMN paused_seconds integer NOT NULL DEFAULT 0 CHECK (paused_seconds >= 0);
ALTER TABLE jobs ADD COLUMN pause_reason text;

-- One running clock per technician across every repair order. Commands take the technician's
-- advisory lock and refuse with the running job named (technician_time.TechnicianClock); this index
-- is the last word under any race. Clocks that ran side by side before the rule are paused first,
-- all but the latest started, so the index can be built.
UPDATE jobs j SET paused_at = clock_timestamp(), pause_reason = 'paused: one running clock per technician'
 WHERE j.finished_at IS NULL AND EXISTS (
       SELECT 1 FROM jobs k WHERE k.technician_id = j.technician_id AND k.finished_at IS NULL
          AND (k.started_at, k.job_id) > (j.started_at, j.job_id));
CREATE UNIQUE INDEX one_running_clock_per_technician ON jobs (technician_id)
 WHERE finished_at IS NULL AND paused_at IS NULL;
-- the period's jobs of a branch, for efficiency and productivity
CREATE INDEX jobs_branch_started ON jobs (branch_id, started_at);

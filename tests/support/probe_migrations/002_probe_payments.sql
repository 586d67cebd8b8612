-- What the probe's count_payment command did: how many times it ran per key.
CREATE TABLE probe_payments (
    key   text PRIMARY KEY,
    times integer NOT NULL
);

-- Metric rollups: every series kept also in buckets of 16 steps per attempt (count, sum, min, max,
-- first and last step, first time), maintained as points are ingested. A downsampled read of a
-- long series aggregates these instead of every point.
CREATE TABLE metric_rollups (
    stage_id    uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    name        text NOT NULL,
    attempt     integer NOT NULL,
    bucket      bigint NOT NULL,
    n           bigint NOT NULL,
    total       double precision NOT NULL,
    lo          double precision NOT NULL,
    hi          double precision NOT NULL,
    first_step  bigint NOT NULL,
    last_step   bigint NOT NULL,
    first_time  timestamptz NOT NULL,
    PRIMARY KEY (stage_id, name, attempt, bucket)
);

INSERT INTO metric_rollups
SELECT stage_id, name, attempt, step / 16, count(*), sum(value), min(value), max(value),
       min(step), max(step), min(recorded_at)
FROM metrics GROUP BY stage_id, name, attempt, step / 16;

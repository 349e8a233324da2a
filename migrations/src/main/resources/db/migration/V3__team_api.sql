-- The REST API for teams (issue 6).

-- Operators run the platform: their admin tokens may create teams and set quotas. The bootstrap
-- team that `anneal serve` makes on first start is one.
ALTER TABLE teams ADD COLUMN operator boolean NOT NULL DEFAULT false;

-- Stages are addressed by the name the spec gave them (unique within a pipeline), and count
-- GPU-hours by the GPUs they asked for.
ALTER TABLE stages ADD COLUMN name text;
UPDATE stages s SET name = COALESCE(p.spec -> 'stages' -> s.position ->> 'name', s.kind)
  FROM pipelines p WHERE p.id = s.pipeline_id;
ALTER TABLE stages ALTER COLUMN name SET NOT NULL;
ALTER TABLE stages ADD CONSTRAINT stages_pipeline_name_key UNIQUE (pipeline_id, name);
ALTER TABLE stages ADD COLUMN gpus integer NOT NULL DEFAULT 0 CHECK (gpus >= 0);

-- Which dataset versions a pipeline reads: a dataset in use cannot be deleted.
CREATE TABLE pipeline_datasets (
    pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    dataset_id   uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (pipeline_id, dataset_id)
);
CREATE INDEX pipeline_datasets_dataset ON pipeline_datasets (dataset_id);

-- Registered models a pipeline starts from (lineage), by the reference its spec used.
CREATE TABLE pipeline_models (
    pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    model_id     uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    ref          text NOT NULL,
    PRIMARY KEY (pipeline_id, model_id)
);

-- Lists filter by status and name and page newest first.
CREATE INDEX pipelines_team_name ON pipelines (team_id, name, created_at DESC);
CREATE INDEX events_stage_order ON events (stage_id, id);
CREATE INDEX checkpoints_stage_created ON checkpoints (stage_id, created_at);

-- Metric range reads aggregate whole series: a covering index lets them read the index alone.
DROP INDEX metrics_stage_name_step;
CREATE INDEX metrics_stage_name_step ON metrics (stage_id, name, step) INCLUDE (attempt, value, recorded_at);

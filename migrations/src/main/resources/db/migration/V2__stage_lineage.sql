-- Lineage of a stage: the checkpoint it started from (a parent stage's final one, or a registered
-- model's) and the final checkpoint it produced.
ALTER TABLE stages ADD COLUMN init_from text;
ALTER TABLE stages ADD COLUMN final_checkpoint text;

-- The attempt that current_step belongs to: after a rollback the stage's step goes back to the
-- checkpoint's, and a late batch of an older attempt must not move it.
ALTER TABLE stages ADD COLUMN current_attempt integer NOT NULL DEFAULT 0;

-- A checkpoint is identified by its location: after a rollback the next attempt writes the same
-- step again under its own folder (step-N-a<attempt>), and both are real checkpoints.
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_stage_id_step_key;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_uri_key UNIQUE (uri);
CREATE INDEX checkpoints_stage_step ON checkpoints (stage_id, step);

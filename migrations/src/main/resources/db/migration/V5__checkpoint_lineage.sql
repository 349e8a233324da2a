-- Lineage of a stage's checkpoints: the checkpoint an attempt resumed from and the attempt that
-- wrote it. Attempts form a tree; after a rollback to step S, what earlier attempts wrote past S is
-- off the live branch, and the API marks it so. Rows from before this column stay NULL: lineage
-- unknown, every checkpoint of theirs counts as live.
ALTER TABLE attempts ADD COLUMN resume_checkpoint text;
ALTER TABLE attempts ADD COLUMN resume_attempt integer CHECK (resume_attempt >= 1);

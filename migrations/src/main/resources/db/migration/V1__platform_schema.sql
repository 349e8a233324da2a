-- Anneal platform schema, version 1. Forward-only: never edit a released migration, add V2.
-- Every stage transition is written here, so the API and console read PostgreSQL, never Temporal.

CREATE TABLE teams (
    id                        uuid PRIMARY KEY,
    name                      text NOT NULL UNIQUE
                              CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    display_name              text,
    max_concurrent_pipelines  integer NOT NULL DEFAULT 4 CHECK (max_concurrent_pipelines >= 0),
    gpu_hours_quota           numeric(12, 3) CHECK (gpu_hours_quota >= 0),
    created_at                timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, email)
);

-- Only a hash of each token is kept; the prefix (anl_xxxx) lets people tell tokens apart.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'submit', 'admin']::text[]),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_team ON api_tokens (team_id);

CREATE TABLE datasets (
    id          uuid PRIMARY KEY,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    version     integer NOT NULL CHECK (version >= 1),
    uri         text NOT NULL,
    sha256      char(64) NOT NULL,
    format      text NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    records     bigint CHECK (records >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    UNIQUE (team_id, name, version)
);

CREATE TABLE pipelines (
    id                  uuid PRIMARY KEY,
    team_id             uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name                text NOT NULL,
    spec                jsonb NOT NULL,
    spec_source         text,
    status              text NOT NULL
                        CHECK (status IN ('PENDING', 'RUNNING', 'PAUSED', 'WAITING_APPROVAL',
                                          'SUCCEEDED', 'FAILED', 'CANCELLED')),
    workflow_id         text UNIQUE,
    idempotency_key     text,
    request_sha256      char(64),
    cloned_from         uuid REFERENCES pipelines (id) ON DELETE SET NULL,
    failure_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    UNIQUE (team_id, idempotency_key)
);
CREATE INDEX pipelines_team_newest ON pipelines (team_id, created_at DESC, id DESC);
CREATE INDEX pipelines_team_status ON pipelines (team_id, status);

CREATE TABLE stages (
    id              uuid PRIMARY KEY,
    pipeline_id     uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 0),
    kind            text NOT NULL CHECK (kind IN ('pretrain', 'sft', 'reward', 'rlhf')),
    status          text NOT NULL
                    CHECK (status IN ('PENDING', 'RUNNING', 'ROLLING_BACK', 'RESTARTING',
                                      'WAITING_APPROVAL', 'SUCCEEDED', 'FAILED', 'CANCELLED',
                                      'SKIPPED')),
    current_step    bigint NOT NULL DEFAULT 0,
    total_steps     bigint,
    rollbacks       integer NOT NULL DEFAULT 0,
    restarts        integer NOT NULL DEFAULT 0,
    eval            jsonb,
    failure_reason  text,
    started_at      timestamptz,
    finished_at     timestamptz,
    UNIQUE (pipeline_id, position)
);

CREATE TABLE attempts (
    id              uuid PRIMARY KEY,
    stage_id        uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    number          integer NOT NULL CHECK (number >= 1),
    cause           text NOT NULL CHECK (cause IN ('first', 'rollback', 'restart')),
    status          text NOT NULL
                    CHECK (status IN ('PREPARING', 'LAUNCHED', 'RUNNING', 'SUCCEEDED',
                                      'UNSTABLE', 'CRASHED', 'FAILED', 'CANCELLED')),
    launcher        text,
    job_name        text,
    launch_info     jsonb,
    resume_step     bigint,
    skip_windows    jsonb,
    lr_factor       double precision,
    exit_code       integer,
    reason          text,
    started_at      timestamptz,
    finished_at     timestamptz,
    UNIQUE (stage_id, number)
);

CREATE TABLE checkpoints (
    id          uuid PRIMARY KEY,
    stage_id    uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    attempt_id  uuid REFERENCES attempts (id) ON DELETE SET NULL,
    step        bigint NOT NULL CHECK (step >= 0),
    uri         text NOT NULL,
    sha256      char(64) NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    health      jsonb NOT NULL DEFAULT '{}'::jsonb,
    state       text NOT NULL CHECK (state IN ('COMMITTED', 'VERIFIED', 'CORRUPT', 'DELETED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stage_id, step)
);

-- One row a point; range reads go by (stage, name, step). NaN and infinities are kept as such.
CREATE TABLE metrics (
    stage_id     uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    step         bigint NOT NULL,
    name         text NOT NULL,
    value        double precision NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX metrics_stage_name_step ON metrics (stage_id, name, step);
CREATE INDEX metrics_stage_name_time ON metrics (stage_id, name, recorded_at);

-- The pipeline's log, in order. Runner events carry their sequence number, which makes a
-- retried batch from the runner idempotent.
CREATE TABLE events (
    id           bigserial PRIMARY KEY,
    pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    stage_id     uuid REFERENCES stages (id) ON DELETE CASCADE,
    attempt_id   uuid REFERENCES attempts (id) ON DELETE CASCADE,
    runner_seq   bigint,
    type         text NOT NULL,
    severity     text NOT NULL DEFAULT 'INFO' CHECK (severity IN ('DEBUG', 'INFO', 'WARN', 'ERROR')),
    message      text NOT NULL,
    payload      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (attempt_id, runner_seq)
);
CREATE INDEX events_pipeline_order ON events (pipeline_id, id);

CREATE TABLE models (
    id             uuid PRIMARY KEY,
    team_id        uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    version        integer NOT NULL CHECK (version >= 1),
    checkpoint_id  uuid REFERENCES checkpoints (id) ON DELETE SET NULL,
    pipeline_id    uuid REFERENCES pipelines (id) ON DELETE SET NULL,
    stage_kind     text CHECK (stage_kind IN ('pretrain', 'sft', 'reward', 'rlhf')),
    uri            text NOT NULL,
    lineage        jsonb NOT NULL DEFAULT '{}'::jsonb,
    label          text NOT NULL DEFAULT 'registered'
                   CHECK (label IN ('registered', 'staging', 'production', 'archived')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    promoted_at    timestamptz,
    UNIQUE (team_id, name, version)
);

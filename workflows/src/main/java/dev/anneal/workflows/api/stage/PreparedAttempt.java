package dev.anneal.workflows.api.stage;

import dev.anneal.workflows.api.jobs.LaunchRequest;

/** An attempt whose RunSpec is written and whose row exists; ready to launch. */
public record PreparedAttempt(String attemptId, LaunchRequest launch) {}

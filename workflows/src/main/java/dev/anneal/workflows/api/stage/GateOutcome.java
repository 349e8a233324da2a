package dev.anneal.workflows.api.stage;

/**
 * What a stage's evaluation gate decided: the figure it checked, its value (null when the stage did
 * not report it), the bounds, and {@code passed}, {@code failed}, {@code approved} (by a person,
 * despite the figure) or {@code not reported}.
 */
public record GateOutcome(
    String stage, String metric, Double value, String bounds, String result) {}

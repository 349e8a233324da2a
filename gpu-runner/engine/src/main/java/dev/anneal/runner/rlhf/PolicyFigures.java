package dev.anneal.runner.rlhf;

import java.util.List;

/**
 * A policy's held-out figures ({@link PolicyEval}): its sampled responses' mean reward-model score,
 * their KL to the reference (nats per response) and mean length, greedy exact match on the prompts
 * with reference answers, and a few samples to read.
 */
public record PolicyFigures(
    double meanReward, double kl, double exactMatch, double responseLength, List<String> samples) {}

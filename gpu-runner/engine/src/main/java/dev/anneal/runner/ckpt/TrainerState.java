package dev.anneal.runner.ckpt;

import dev.anneal.runner.stability.InstabilityDetector;

/**
 * Everything besides tensors that a resumed run needs to continue exactly: where it is (step,
 * tokens, data cursor), the optimizer's update count, the fp16 loss scaler, the detector's window.
 * The data sampler is a pure function of (seed, batch index), so the seed is its whole RNG state.
 */
public record TrainerState(
    int formatVersion,
    long step,
    long tokensSeen,
    long batchesConsumed,
    long optimizerSteps,
    String optimizer,
    double lossScale,
    long goodStepsSinceScaleChange,
    long seed,
    InstabilityDetector.State detector,
    String modelShape) {}

package dev.anneal.runner.stage;

import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.train.TrainingInputs;

/** Pre-training: next-token prediction on the spec's dataset mixture. */
final class PretrainRun extends SupervisedRun {
  @Override
  TrainingInputs.Inputs prepare(Attempt a, CheckpointReader.Loaded from) {
    return TrainingInputs.prepare(a.spec(), a.shape(), a.store(), from);
  }
}

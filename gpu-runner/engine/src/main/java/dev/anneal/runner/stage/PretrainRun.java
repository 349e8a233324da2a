package dev.anneal.runner.stage;

import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.train.TrainingInputs;

/** Pre-training: next-token prediction on the spec's dataset mixture. */
final class PretrainRun extends SupervisedRun {
  @Override
  TrainingInputs.Inputs prepare(Attempt a, CheckpointReader.Loaded from) {
    long t0 = System.nanoTime();
    TrainingInputs.Inputs in = TrainingInputs.prepare(a.spec(), a.shape(), a.store(), from);
    double seconds = (System.nanoTime() - t0) / 1e9;
    long tokens = in.tokensPerSource().values().stream().mapToLong(Long::longValue).sum();
    a.events()
        .log(
            "INFO",
            String.format(
                "data: %,d tokens %s streamed into mapped token sets in %.1f s (%,.0f tokens/s)",
                tokens, in.tokensPerSource(), seconds, tokens / seconds));
    return in;
  }
}

package dev.anneal.runner;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.TrainingConfig;
import java.util.stream.Collectors;

/** A person-readable account of what a RunSpec asks the runner to do. */
final class SpecSummary {
  private SpecSummary() {}

  static String describe(RunSpec spec) {
    TrainingConfig t = spec.training();
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "%s/%s stage %s attempt %d on %s, seed %d%n",
            spec.team(),
            spec.pipeline(),
            spec.stage().id(),
            spec.attempt(),
            spec.device(),
            spec.seed()));
    sb.append(
        String.format(
            "model: preset %s, %s attention%n", spec.model().preset(), spec.model().attention()));
    sb.append(
        String.format(
            "training: %d steps x batch %d x seq %d (accumulate %d), %s lr %.3g, warm-up %.2f%%,"
                + " cosine to %.0f%%, betas (%s, %s), eps %s, weight decay %s, clip %s, %s%n",
            t.steps(),
            t.batchSize(),
            t.seqLen(),
            t.gradAccum(),
            t.optimizer(),
            t.lr(),
            100 * t.warmupFraction(),
            100 * t.minLrRatio(),
            t.beta1(),
            t.beta2(),
            t.eps(),
            t.weightDecay(),
            t.gradClip(),
            t.precision()));
    if (!spec.datasets().isEmpty()) {
      sb.append("data: ")
          .append(
              spec.datasets().stream().map(SpecSummary::dataset).collect(Collectors.joining(", ")))
          .append(System.lineSeparator());
    }
    if (spec.resumeFrom() != null) {
      sb.append("resume from: ")
          .append(spec.resumeFrom().manifestKey())
          .append(System.lineSeparator());
    } else if (spec.initFrom() != null) {
      sb.append("start from: ")
          .append(spec.initFrom().manifestKey())
          .append(System.lineSeparator());
    }
    StabilityConfig s = spec.stability();
    if (!s.skipWindows().isEmpty()) {
      sb.append("skip batches: ")
          .append(
              s.skipWindows().stream()
                  .map(w -> w.fromBatch() + "-" + (w.toBatch() - 1))
                  .collect(Collectors.joining(", ")))
          .append(System.lineSeparator());
    }
    if (s.lrFactor() < 1.0) {
      sb.append(String.format("learning rate x%.3g after rollback%n", s.lrFactor()));
    }
    sb.append(
        String.format(
            "checkpoint every %d steps to s3://%s (keep %d)",
            spec.checkpoint().everySteps(), spec.store().bucket(), spec.checkpoint().keepLast()));
    return sb.toString();
  }

  private static String dataset(DatasetRef d) {
    return String.format("%s (weight %.2f)", d.name(), d.weight());
  }
}

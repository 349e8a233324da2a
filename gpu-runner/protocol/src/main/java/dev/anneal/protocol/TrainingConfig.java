package dev.anneal.protocol;

import io.soabase.recordbuilder.core.RecordBuilder;

/**
 * Optimisation settings. Missing values take the defaults of the LLM survey's recipe: AdamW (0.9,
 * 0.95, 1e-8), weight decay 0.1, global-norm clip 1.0, linear warm-up then cosine decay to 10% of
 * the peak learning rate, fp32 on CPU. {@code packing} (SFT) fills each row with several short
 * dialogues, each attending only to itself.
 */
@RecordBuilder
public record TrainingConfig(
    Long steps,
    Integer batchSize,
    Integer seqLen,
    Integer gradAccum,
    Double lr,
    Double warmupFraction,
    Double minLrRatio,
    String optimizer,
    Double beta1,
    Double beta2,
    Double eps,
    Double weightDecay,
    Double gradClip,
    String precision,
    BatchRamp batchRamp,
    Boolean packing) {

  /** GPT-3-style batch-size ramp: start at {@code startBatchSize}, reach the target by tokens. */
  public record BatchRamp(Integer startBatchSize, Long rampTokens) {
    public BatchRamp {
      Checks.positive("startBatchSize", Checks.present("startBatchSize", startBatchSize));
      Checks.positive("rampTokens", Checks.present("rampTokens", rampTokens));
    }
  }

  public TrainingConfig {
    Checks.positive("steps", Checks.present("steps", steps));
    batchSize = Checks.orDefault(batchSize, 8);
    seqLen = Checks.orDefault(seqLen, 64);
    gradAccum = Checks.orDefault(gradAccum, 1);
    lr = Checks.orDefault(lr, 3e-4);
    warmupFraction = Checks.orDefault(warmupFraction, 0.01);
    minLrRatio = Checks.orDefault(minLrRatio, 0.1);
    optimizer = Checks.orDefault(optimizer, "adamw");
    beta1 = Checks.orDefault(beta1, 0.9);
    beta2 = Checks.orDefault(beta2, 0.95);
    eps = Checks.orDefault(eps, 1e-8);
    weightDecay = Checks.orDefault(weightDecay, 0.1);
    gradClip = Checks.orDefault(gradClip, 1.0);
    precision = Checks.orDefault(precision, "fp32");
    packing = Checks.orDefault(packing, false);

    Checks.positive("batchSize", batchSize);
    Checks.positive("seqLen", seqLen);
    Checks.positive("gradAccum", gradAccum);
    Checks.positive("lr", lr);
    Checks.range("warmupFraction", warmupFraction, 0, 1);
    Checks.range("minLrRatio", minLrRatio, 0, 1);
    Checks.range("beta1", beta1, 0, 0.999999);
    Checks.range("beta2", beta2, 0, 0.999999);
    Checks.positive("eps", eps);
    Checks.range("weightDecay", weightDecay, 0, 10);
    Checks.positive("gradClip", gradClip);
    if (!optimizer.equals("adamw") && !optimizer.equals("adafactor")) {
      throw new IllegalArgumentException(
          "optimizer: must be 'adamw' or 'adafactor', got '" + optimizer + "'");
    }
    if (!precision.equals("fp32")
        && !precision.equals("fp16-mixed")
        && !precision.equals("bf16-mixed")) {
      throw new IllegalArgumentException(
          "precision: must be 'fp32', 'fp16-mixed' or 'bf16-mixed', got '" + precision + "'");
    }
  }

  /** A builder: unset fields are null and take their defaults, as in a spec file. */
  public static TrainingConfigBuilder builder() {
    return TrainingConfigBuilder.builder();
  }

  /** A builder holding this training settings's values, to change a few of them. */
  public TrainingConfigBuilder toBuilder() {
    return TrainingConfigBuilder.builder(this);
  }
}

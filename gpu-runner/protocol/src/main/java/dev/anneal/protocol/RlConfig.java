package dev.anneal.protocol;

import io.soabase.recordbuilder.core.RecordBuilder;

/**
 * PPO settings of an RLHF stage, with the defaults of the reference implementations (InstructGPT,
 * DeepSpeed-Chat, OpenRLHF): each step samples one response per prompt ({@code maxNewTokens},
 * {@code temperature}, {@code topP}), folds a per-token KL penalty to the frozen reference into the
 * reward ({@code klCoef}, adapted towards {@code klTarget} nats per response over {@code klHorizon}
 * samples; no target keeps it fixed), estimates advantages with GAE ({@code gamma}, {@code
 * lambda}), and makes {@code ppoEpochs} passes of the clipped policy and value losses ({@code
 * clipRange}, {@code valueClip}). The reward model's score is clipped to {@code ±rewardClip} and,
 * with {@code normalizeRewards}, whitened by running statistics. {@code ptxCoef} mixes the
 * language-model loss of the stage's further datasets into the actor's; {@code emaDecay} keeps an
 * exponential moving average of the actor.
 *
 * <p>Health: a mean KL above {@code klLimit} nats per response is a KL blow-up; a mean response
 * shorter than {@code minLengthRatio} of the first step's, a length collapse; every {@code
 * evalEvery} steps the held-out prompts are answered greedily, and a reward that rose while the
 * exact-match accuracy fell by more than {@code hackingDrop} is reward hacking.
 */
@RecordBuilder
public record RlConfig(
    Integer maxNewTokens,
    Double temperature,
    Double topP,
    Integer ppoEpochs,
    Double klCoef,
    Double klTarget,
    Long klHorizon,
    Double gamma,
    Double lambda,
    Double clipRange,
    Double valueClip,
    Double criticLr,
    Double rewardClip,
    Boolean normalizeRewards,
    Double ptxCoef,
    Double emaDecay,
    Double klLimit,
    Double minLengthRatio,
    Double hackingDrop,
    Integer evalEvery,
    Integer freezeActorSteps) {

  public RlConfig {
    maxNewTokens = Checks.orDefault(maxNewTokens, 16);
    temperature = Checks.orDefault(temperature, 1.0);
    topP = Checks.orDefault(topP, 1.0);
    ppoEpochs = Checks.orDefault(ppoEpochs, 2);
    klCoef = Checks.orDefault(klCoef, 0.05);
    klHorizon = Checks.orDefault(klHorizon, 10_000L);
    gamma = Checks.orDefault(gamma, 1.0);
    lambda = Checks.orDefault(lambda, 0.95);
    clipRange = Checks.orDefault(clipRange, 0.2);
    valueClip = Checks.orDefault(valueClip, 0.2);
    rewardClip = Checks.orDefault(rewardClip, 5.0);
    normalizeRewards = Checks.orDefault(normalizeRewards, false);
    ptxCoef = Checks.orDefault(ptxCoef, 0.0);
    klLimit = Checks.orDefault(klLimit, 20.0);
    minLengthRatio = Checks.orDefault(minLengthRatio, 0.25);
    hackingDrop = Checks.orDefault(hackingDrop, 0.2);
    evalEvery = Checks.orDefault(evalEvery, 25);
    freezeActorSteps = Checks.orDefault(freezeActorSteps, 0);

    Checks.positive("maxNewTokens", maxNewTokens);
    Checks.range("temperature", temperature, 0, 10);
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP: must be in (0, 1], got " + topP);
    }
    Checks.positive("ppoEpochs", ppoEpochs);
    Checks.range("klCoef", klCoef, 0, 100);
    if (klTarget != null) Checks.positive("klTarget", klTarget);
    Checks.positive("klHorizon", klHorizon);
    Checks.range("gamma", gamma, 0, 1);
    Checks.range("lambda", lambda, 0, 1);
    Checks.positive("clipRange", clipRange);
    Checks.positive("valueClip", valueClip);
    if (criticLr != null) Checks.positive("criticLr", criticLr);
    Checks.positive("rewardClip", rewardClip);
    Checks.range("ptxCoef", ptxCoef, 0, 100);
    if (emaDecay != null) Checks.range("emaDecay", emaDecay, 0, 0.999999);
    Checks.positive("klLimit", klLimit);
    Checks.range("minLengthRatio", minLengthRatio, 0, 1);
    Checks.range("hackingDrop", hackingDrop, 0, 1);
    Checks.nonNegative("evalEvery", evalEvery);
    Checks.nonNegative("freezeActorSteps", freezeActorSteps);
  }

  public static RlConfig defaults() {
    return new RlConfig(
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null);
  }

  /** A builder: unset fields are null and take their defaults, as in a spec file. */
  public static RlConfigBuilder builder() {
    return RlConfigBuilder.builder();
  }

  /** A builder holding this RL settings's values, to change a few of them. */
  public RlConfigBuilder toBuilder() {
    return RlConfigBuilder.builder(this);
  }
}

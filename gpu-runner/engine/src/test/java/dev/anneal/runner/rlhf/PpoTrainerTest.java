package dev.anneal.runner.rlhf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.Curriculum;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.train.FaultInjector;
import dev.anneal.runner.train.Outcome;
import dev.anneal.runner.train.RewardObjective;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO on the micro model with random starting weights: a random reward model still defines a reward
 * the policy can learn to raise, which is enough to check the loop learns, resumes exactly and
 * reports RL health. (The demo measures the whole pre-train → SFT → RM → PPO chain.)
 */
class PpoTrainerTest {

  @TempDir Path dir;

  private static final ModelConfig MICRO = ModelConfig.preset("micro");
  private static final List<PromptData.Prompt> PROMPTS = SyntheticCorpus.prompts(3, 120);
  private static final BpeTokenizer TOK = tokenizer();

  private static BpeTokenizer tokenizer() {
    List<String> texts = new ArrayList<>();
    for (PromptData.Prompt p : PROMPTS) {
      texts.add(p.messages().get(0).content() + " " + p.answer());
    }
    return BpeTrainer.train(texts, 300, false, TokenizerSpec.DEFAULT_SPECIALS);
  }

  private record Weights(
      Map<String, SafeTensors.HostTensor> policy, Map<String, SafeTensors.HostTensor> reward) {}

  private static Weights randomWeights() {
    ModelShape shape = ModelShape.of(MICRO);
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.init(shape, m, 11, DataType.FLOAT32);
      Map<String, SafeTensors.HostTensor> policy = DeviceSnapshot.host(p.all());
      Params r = Params.init(shape, m, 12, DataType.FLOAT32);
      Map<String, SafeTensors.HostTensor> reward =
          new LinkedHashMap<>(DeviceSnapshot.host(r.all()));
      reward.putAll(DeviceSnapshot.host(new RewardObjective().extraParams(shape, m, 12)));
      return new Weights(policy, reward);
    }
  }

  private RunSpec spec(
      long steps, double lr, RlConfig rl, FaultInjection inject, CheckpointRef resume) {
    return spec(steps, lr, rl, inject, resume, dir);
  }

  private RunSpec spec(
      long steps, double lr, RlConfig rl, FaultInjection inject, CheckpointRef resume, Path store) {
    return RunSpec.builder()
        .team("t")
        .pipeline("p")
        .stage(StageKind.RLHF)
        .attempt(resume == null ? 1 : 2)
        .device("cpu")
        .seed(9L)
        .model(MICRO)
        .training(
            TrainingConfig.builder()
                .steps(steps)
                .batchSize(8)
                .seqLen(40)
                .gradAccum(1)
                .lr(lr)
                .warmupFraction(0.0)
                .minLrRatio(1.0)
                .weightDecay(0.0)
                .build())
        .datasets(List.of())
        .initFrom(new CheckpointRef("t/sft/manifest.json", null))
        .resumeFrom(resume)
        .checkpoint(new CheckpointPolicy(2, 10, 0))
        .store(new ObjectStoreTarget("file:" + store, "local", null))
        .inject(inject)
        .rewardFrom(new CheckpointRef("t/reward/manifest.json", null))
        .rl(rl)
        .build();
  }

  private static RlConfig rl(Double klTarget, Double ema, Double klLimit, int evalEvery) {
    return RlConfig.builder()
        .maxNewTokens(8)
        .temperature(1.0)
        .ppoEpochs(2)
        .klCoef(0.05)
        .klTarget(klTarget)
        .klHorizon(1000L)
        .criticLr(1e-3)
        .normalizeRewards(true)
        .emaDecay(ema)
        .klLimit(klLimit)
        .evalEvery(evalEvery)
        .build();
  }

  private record Run(PpoTrainer.Result result, List<Map<String, Double>> steps, List<String> log) {}

  private Run run(
      RunSpec spec, Weights w, CheckpointReader.Loaded resume, Map<String, float[]> out) {
    return run(spec, w, resume, out, null);
  }

  private Run run(
      RunSpec spec,
      Weights w,
      CheckpointReader.Loaded resume,
      Map<String, float[]> out,
      BatchSource ptx) {
    List<String> lines = new ArrayList<>();
    EventLog events = new EventLog("t", "p", StageKind.RLHF, spec.attempt(), lines::add);
    PpoTrainer.Result r;
    try (PpoTrainer t =
        new PpoTrainer(
            spec,
            ModelShape.of(MICRO),
            TOK,
            PROMPTS.subList(20, PROMPTS.size()),
            PROMPTS.subList(0, 20),
            ptx,
            w.policy(),
            w.reward(),
            resume,
            StageRunner.store(spec.store()),
            events,
            false)) {
      r = t.run();
      if (out != null) {
        t.actor().all().forEach((k, v) -> out.put("actor/" + k, v.toFloatArray()));
        out.put("kl_coef", new float[] {(float) t.lastMetrics().get("kl_coef").doubleValue()});
        if (t.ema() != null) {
          t.ema().all().forEach((k, v) -> out.put("ema/" + k, v.toFloatArray()));
        }
      }
    }
    List<Map<String, Double>> steps = new ArrayList<>();
    for (RunnerEvent e : events.events()) {
      if (e instanceof RunnerEvent.Metrics m && m.points().size() > 5) {
        Map<String, Double> v = new LinkedHashMap<>();
        m.points().forEach(p -> v.put(p.name(), p.value()));
        steps.add(v);
      }
    }
    return new Run(r, steps, lines);
  }

  @Test
  void gaeWithGammaOneAndLambdaMatchesAHandComputation() {
    double[] rewards = {0.1, -0.2, 1.0};
    double[] values = {0.5, 0.4, 0.3};
    double[][] g = Advantages.gae(rewards, values, 1.0, 0.95);
    // deltas: 0.1 + 0.4 - 0.5 = 0; -0.2 + 0.3 - 0.4 = -0.3; 1.0 + 0 - 0.3 = 0.7
    double a2 = 0.7;
    double a1 = -0.3 + 0.95 * a2;
    double a0 = 0 + 0.95 * a1;
    assertThat(g[0]).containsExactly(new double[] {a0, a1, a2}, within(1e-12));
    assertThat(g[1]).containsExactly(new double[] {a0 + 0.5, a1 + 0.4, a2 + 0.3}, within(1e-12));
    // lambda 1: the advantage is the whole return minus the value
    double[][] mc = Advantages.gae(rewards, values, 1.0, 1.0);
    assertThat(mc[1][0]).isCloseTo(0.1 - 0.2 + 1.0, within(1e-12));
  }

  @Test
  void theKlControllerMovesTowardsItsTargetAndNoFurtherThanTwentyPercent() {
    assertThat(KlController.next(0.1, 12, 6, 100, 100)).isCloseTo(0.12, within(1e-12));
    assertThat(KlController.next(0.1, 3, 6, 100, 100)).isCloseTo(0.08, within(1e-12));
    assertThat(KlController.next(0.1, 6.6, 6, 1000, 10))
        .isCloseTo(0.1 * (1 + 0.1 * 0.01), within(1e-12));
  }

  @Test
  void onlyResponseTokensAreActions() {
    Rollout l =
        Rollout.of(
            List.of(new int[] {1, 2, 3}, new int[] {4, 5}),
            List.of(new int[] {7, 8}, new int[] {9}),
            0);
    // full rows [1 2 3 7 8] and [4 5 9 pad pad]; position j predicts token j + 1
    assertThat(l.t()).isEqualTo(4);
    assertThat(l.mask()).containsExactly(0, 0, 1, 1, 0, 1, 0, 0);
    assertThat(l.targets()).startsWith(2, 3, 7, 8, 5, 9);
  }

  @Test
  void aResumedRunReproducesTheUninterruptedOne() {
    Weights w = randomWeights();
    RlConfig cfg = rl(0.5, 0.9, null, 0);
    Map<String, float[]> straight = new LinkedHashMap<>();
    Run a = run(spec(6, 1e-3, cfg, FaultInjection.none(), null), w, null, straight);
    assertThat(a.result().outcome()).isEqualTo(Outcome.FINISHED);
    // the same run in another store, killed at step 4 right after its step-4 checkpoint
    RunSpec crashing =
        spec(
            6,
            1e-3,
            cfg,
            new FaultInjection(null, null, null, null, 4L, 1),
            null,
            dir.resolve("second"));
    assertThatThrownBy(() -> run(crashing, w, null, null))
        .isInstanceOf(FaultInjector.InjectedCrash.class);
    String key = ObjectKeys.checkpointManifest("t", "p", StageKind.RLHF, 4, 1);
    CheckpointReader.Loaded ckpt = CheckpointReader.load(StageRunner.store(crashing.store()), key);
    assertThat(ckpt.files()).containsKeys("rl-state.json", "critic.safetensors", "ema.safetensors");
    Map<String, float[]> resumed = new LinkedHashMap<>();
    Run c =
        run(
            spec(
                6,
                1e-3,
                cfg,
                FaultInjection.none(),
                new CheckpointRef(key, 4L),
                dir.resolve("second")),
            w,
            ckpt,
            resumed);
    assertThat(c.log()).anyMatch(l -> l.contains("resumed the whole RL state"));
    assertThat(c.steps().get(0).get("data_batch")).isEqualTo(4.0);
    assertThat(c.steps().get(1).get("reward")).isEqualTo(a.steps().get(5).get("reward"));
    assertThat(c.steps().get(1).get("kl_coef")).isEqualTo(a.steps().get(5).get("kl_coef"));
    assertThat(resumed.keySet()).isEqualTo(straight.keySet());
    straight.forEach((k, v) -> assertThat(resumed.get(k)).as(k).containsExactly(v));
  }

  @Test
  void ptxMixesTheLanguageModelLossOfTextIntoTheActorsAndNeedsText() {
    Weights w = randomWeights();
    RlConfig ptx =
        RlConfig.builder()
            .maxNewTokens(8)
            .temperature(1.0)
            .ppoEpochs(1)
            .klCoef(0.05)
            .ptxCoef(0.5)
            .evalEvery(0)
            .build();
    List<String> texts = new ArrayList<>();
    for (PromptData.Prompt p : PROMPTS) texts.add(p.messages().get(0).content() + " " + p.answer());
    List<Integer> stream = new ArrayList<>();
    for (String t : texts) for (int id : TOK.encode(t)) stream.add(id);
    Sampler text =
        new Sampler(
            List.of(
                new Sampler.Source("text", stream.stream().mapToInt(Integer::intValue).toArray())),
            new Curriculum(Map.of("text", 1.0), List.of()),
            9);
    Run r = run(spec(3, 1e-3, ptx, FaultInjection.none(), null), w, null, null, text);
    assertThat(r.result().outcome()).isEqualTo(Outcome.FINISHED);
    assertThat(r.steps()).allSatisfy(m -> assertThat(m.get("ptx_loss")).isPositive().isFinite());
    assertThatThrownBy(() -> run(spec(3, 1e-3, ptx, FaultInjection.none(), null), w, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rl.ptxCoef: PTX mixes in the language-model loss");
  }

  @Test
  void aKlBlowUpStopsTheRunBeforeTheUpdate() {
    Weights w = randomWeights();
    Run r =
        run(
            spec(
                10,
                1e-3,
                rl(null, null, 2.0, 0),
                new FaultInjection(2L, 3, 1000.0, null, null, 1),
                null),
            w,
            null,
            null);
    assertThat(r.result().outcome()).isEqualTo(Outcome.UNSTABLE);
    assertThat(r.result().trigger().kind()).isEqualTo(RunnerEvent.InstabilityKind.KL_BLOWUP);
    assertThat(r.result().trigger().message()).contains("KL to the reference");
    assertThat(r.log()).anyMatch(l -> l.contains("\"kind\":\"KL_BLOWUP\""));
  }

  @Test
  void aNonFinitePolicyLossIsReportedAtItsStep() {
    Weights w = randomWeights();
    Run r =
        run(
            spec(
                6,
                1e-3,
                rl(null, null, null, 0),
                new FaultInjection(null, null, null, 3L, null, 1),
                null),
            w,
            null,
            null);
    assertThat(r.result().trigger().kind()).isEqualTo(RunnerEvent.InstabilityKind.NON_FINITE_LOSS);
    assertThat(r.result().trigger().step()).isEqualTo(3);
  }
}

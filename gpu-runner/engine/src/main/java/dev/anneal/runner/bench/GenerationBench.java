package dev.anneal.runner.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.rlhf.PpoTrainer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.train.RewardObjective;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Generation throughput of the hybrid engine's inference mode: tokens/s with the KV cache against
 * recomputing the whole sequence for every new token (what a plain forward-only generate does),
 * same weights, prompts and greedy decoding, for each number of new tokens. The ratio is measured
 * in the same run; the cached and recomputed outputs are also compared token for token.
 */
public final class GenerationBench {

  public record Options(
      List<String> presets, int batch, int promptTokens, List<Integer> newTokens) {}

  private GenerationBench() {}

  public static int run(Options o, PrintStream out) {
    out.printf(
        "generation, greedy, batch %d, prompts of %d tokens, fp32, %d threads%n",
        o.batch(), o.promptTokens(), Runtime.getRuntime().availableProcessors());
    out.printf(
        "%-6s %10s %6s %14s %14s %7s %s%n",
        "model", "params", "new", "KV cache tok/s", "recompute tok/s", "ratio", "same tokens");
    boolean allSame = true;
    for (String preset : o.presets()) {
      ModelShape shape =
          ModelShape.of(
              new ModelConfig(preset, null, null, null, null, null, null, null, null, null));
      try (NDManager m = NDManager.newBaseManager()) {
        Params p = Params.init(shape, m, 1, DataType.FLOAT32);
        Generator g = new Generator(new Transformer(shape), 0);
        SplittableRandom rng = new SplittableRandom(5);
        List<int[]> prompts = new ArrayList<>();
        for (int r = 0; r < o.batch(); r++) {
          int[] pr = new int[o.promptTokens()];
          for (int i = 0; i < pr.length; i++) pr[i] = 1 + rng.nextInt(shape.vocabSize() - 1);
          prompts.add(pr);
        }
        // warm-up at full size (kernels, allocator, the JIT): the first timed run is not
        // charged for it
        int most = o.newTokens().stream().mapToInt(Integer::intValue).max().orElse(64);
        int least = o.newTokens().stream().mapToInt(Integer::intValue).min().orElse(64);
        g.generate(p, m, prompts, Generator.Sampling.greedy(most, Set.of()));
        g.generateWithoutCache(p, m, prompts, Generator.Sampling.greedy(least, Set.of()));
        for (int n : o.newTokens()) {
          Generator.Sampling s = Generator.Sampling.greedy(n, Set.of());
          long t0 = System.nanoTime();
          Generator.Output cached = g.generate(p, m, prompts, s);
          double cachedS = (System.nanoTime() - t0) / 1e9;
          t0 = System.nanoTime();
          Generator.Output full = g.generateWithoutCache(p, m, prompts, s);
          double fullS = (System.nanoTime() - t0) / 1e9;
          boolean same = true;
          for (int r = 0; r < prompts.size(); r++) {
            same &= java.util.Arrays.equals(cached.tokens().get(r), full.tokens().get(r));
          }
          allSame &= same;
          double a = cached.generatedTokens() / cachedS;
          double b = full.generatedTokens() / fullS;
          out.printf(
              "%-6s %10s %6d %14.0f %14.0f %6.1fx %s%n",
              preset,
              String.format("%,d", shape.parameterCount()),
              n,
              a,
              b,
              a / b,
              same ? "yes" : "NO (fp32 near-ties)");
          out.flush();
        }
      }
    }
    for (String preset : o.presets()) {
      ppoSplit(preset, o.batch(), out);
    }
    return allSame ? 0 : 1;
  }

  /**
   * Where a PPO step's time goes: generating the rollouts, scoring them (reference, old policy,
   * critic and reward model forwards) and training (the PPO epochs of actor and critic). Random
   * weights and a tokenizer trained on the synthetic chat data; responses run to the token limit.
   */
  static void ppoSplit(String preset, int batch, PrintStream out) {
    ModelShape shape =
        ModelShape.of(
            new ModelConfig(preset, null, null, null, null, null, null, null, null, null));
    int steps = 6;
    int warmup = 2;
    int newTokens = 32;
    Path dir;
    try {
      dir = Files.createTempDirectory("anneal-ppo-bench");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<PromptData.Prompt> prompts = SyntheticCorpus.prompts(7, 200);
    List<String> texts = new ArrayList<>();
    for (PromptData.Prompt p : prompts) {
      texts.add(p.messages().get(0).content() + " " + p.answer());
    }
    Tokenizer tok =
        BpeTrainer.train(
            texts, Math.min(shape.vocabSize(), 512), false, TokenizerSpec.DEFAULT_SPECIALS);
    Map<String, SafeTensors.HostTensor> policy;
    Map<String, SafeTensors.HostTensor> reward;
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.init(shape, m, 1, DataType.FLOAT32);
      policy = DeviceSnapshot.host(p.all());
      reward = new LinkedHashMap<>(policy);
      reward.putAll(DeviceSnapshot.host(new RewardObjective().extraParams(shape, m, 1)));
    }
    RunSpec spec =
        RunSpec.builder()
            .team("bench")
            .pipeline("ppo")
            .stage(StageKind.RLHF)
            .attempt(1)
            .device("cpu")
            .seed(1L)
            .model(new ModelConfig(preset, null, null, null, null, null, null, null, null, null))
            .training(
                TrainingConfig.builder()
                    .steps((long) steps)
                    .batchSize(batch)
                    .seqLen(64)
                    .gradAccum(1)
                    .lr(1e-5)
                    .warmupFraction(0.0)
                    .minLrRatio(0.1)
                    .build())
            .datasets(List.of())
            .checkpoint(new CheckpointPolicy(1000, 1, 0))
            .store(new ObjectStoreTarget("file:" + dir, "bench", null))
            .rewardFrom(new CheckpointRef("bench/reward/manifest.json", null))
            .rl(
                RlConfig.builder()
                    .maxNewTokens(newTokens)
                    .temperature(1.0)
                    .klLimit(1e9)
                    .minLengthRatio(0.0)
                    .evalEvery(0)
                    .build())
            .build();
    List<Map<String, Double>> perStep = new ArrayList<>();
    EventLog events = new EventLog("bench", "ppo", StageKind.RLHF, 1, line -> {});
    try (PpoTrainer t =
        new PpoTrainer(
            spec,
            shape,
            tok,
            prompts.subList(20, prompts.size()),
            prompts.subList(0, 20),
            null,
            policy,
            reward,
            null,
            StageRunner.store(spec.store()),
            events,
            false)) {
      t.run();
    }
    for (RunnerEvent e : events.events()) {
      if (e instanceof RunnerEvent.Metrics mm && mm.points().size() > 5) {
        Map<String, Double> v = new LinkedHashMap<>();
        mm.points().forEach(pt -> v.put(pt.name(), pt.value()));
        if (mm.points().get(0).step() >= warmup) perStep.add(v);
      }
    }
    double g = avg(perStep, "generate_ms");
    double sc = avg(perStep, "score_ms");
    double tr = avg(perStep, "train_ms");
    double all = g + sc + tr;
    out.printf(
        "%-6s ppo step (batch %d, %d new tokens, 2 epochs; mean of %d steps): generate %.0f ms"
            + " (%.0f%%), score %.0f ms (%.0f%%), train %.0f ms (%.0f%%); generation %.0f tok/s%n",
        preset,
        batch,
        newTokens,
        perStep.size(),
        g,
        100 * g / all,
        sc,
        100 * sc / all,
        tr,
        100 * tr / all,
        avg(perStep, "tokens_per_s"));
    out.flush();
  }

  private static double avg(List<Map<String, Double>> rows, String key) {
    return rows.stream().mapToDouble(r -> r.getOrDefault(key, Double.NaN)).average().orElse(0);
  }
}

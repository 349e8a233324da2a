package dev.anneal.runner.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
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
    return allSame ? 0 : 1;
  }
}

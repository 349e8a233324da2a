package dev.anneal.runner;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden figures: every per-step figure (loss, gradient norm, learning rate, reward, KL, …) and
 * every summary figure of a short pre-train → SFT → reward model → PPO chain with fixed seeds on
 * one PyTorch thread, compared with the ones recorded in {@code golden/chain.txt} to the last digit
 * {@link Double#toString} prints. Wall-clock figures ({@code *_ms}, {@code *_per_s}) are left out.
 * Restructuring the trainers must not change a single line; a change that means to change the
 * numbers re-records them with {@code -Danneal.updateGolden=true} and says why in its commit.
 *
 * <p>The kernels are pinned for every test (AVX2 in ATen, MKL and oneDNN; see the root pom), so the
 * figures do not depend on which x86-64 CPU runs the suite.
 */
class GoldenFiguresTest {

  private static final String RESOURCE = "golden/chain.txt";

  @TempDir Path dir;

  private static int threadsBefore;

  @BeforeAll
  static void oneThread() {
    Engine.getEngine("PyTorch");
    threadsBefore = JniUtils.getNumThreads();
    JniUtils.setNumThreads(1);
  }

  @AfterAll
  static void restoreThreads() {
    JniUtils.setNumThreads(threadsBefore);
  }

  @Test
  void theChainsFiguresMatchTheRecordedOnesToTheLastDigit() throws IOException {
    List<String> figures = chainFigures();
    if (Boolean.getBoolean("anneal.updateGolden")) {
      Path file = Path.of("src/test/resources").resolve(RESOURCE);
      Files.createDirectories(file.getParent());
      Files.write(file, figures, StandardCharsets.UTF_8);
    }
    List<String> golden;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(RESOURCE)) {
      assertThat(in).as("test resource %s", RESOURCE).isNotNull();
      golden = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    assertThat(figures).as("golden figures").hasSizeGreaterThan(100);
    assertThat(figures).containsExactlyElementsOf(golden);
  }

  private List<String> chainFigures() {
    ObjectStoreTarget store = new ObjectStoreTarget("file:" + dir, "local", null);
    ModelConfig micro = ModelConfig.preset("micro");
    List<String> out = new ArrayList<>();
    run(
        out,
        StageRuns.spec(
            StageKind.PRETRAIN,
            micro,
            StageRuns.training(24L, 8, 32, 3e-3),
            List.of(
                new DatasetRef("arithmetic", "synthetic:arithmetic?docs=200", null, 1.0, null),
                new DatasetRef("dialogue", "synthetic:dialogue?docs=200", null, 1.0, null)),
            null,
            store,
            null));
    String base = ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 24, 1);
    run(
        out,
        StageRuns.spec(
            StageKind.SFT,
            micro,
            StageRuns.training(12, 8, 32, 1e-3),
            List.of(new DatasetRef("chat", "synthetic:chat?docs=200", null, 1.0, null)),
            new CheckpointRef(base, 24L),
            store,
            null));
    String sft = ObjectKeys.checkpointManifest("t", "p", StageKind.SFT, 12, 1);
    run(
        out,
        StageRuns.spec(
            StageKind.REWARD,
            micro,
            StageRuns.training(12, 8, 32, 1e-3),
            List.of(new DatasetRef("prefs", "synthetic:preferences?docs=300", null, 1.0, null)),
            new CheckpointRef(sft, 12L),
            store,
            null));
    String rm = ObjectKeys.checkpointManifest("t", "p", StageKind.REWARD, 12, 1);
    run(
        out,
        StageRuns.rlhf(
            micro,
            StageRuns.training(4, 8, 32, 5e-5),
            List.of(new DatasetRef("prompts", "synthetic:prompts?docs=100", null, 1.0, null)),
            new CheckpointRef(sft, 12L),
            new CheckpointRef(rm, 12L),
            RlConfig.builder()
                .maxNewTokens(16)
                .temperature(0.7)
                .klCoef(0.1)
                .criticLr(1e-3)
                .evalEvery(0)
                .build(),
            store,
            null));
    return out;
  }

  private static void run(List<String> out, RunSpec spec) {
    String stage = spec.stage().name().toLowerCase(java.util.Locale.ROOT);
    for (RunnerEvent e : StageRuns.events(spec)) {
      if (e instanceof RunnerEvent.Metrics m) {
        for (RunnerEvent.MetricPoint p : m.points()) {
          if (!wallClock(p.name())) {
            out.add(stage + " " + p.step() + " " + p.name() + " " + p.value());
          }
        }
      } else if (e instanceof RunnerEvent.Finished f) {
        Map<String, Double> summary = new TreeMap<>(f.summary());
        summary.forEach(
            (k, v) -> {
              if (!wallClock(k)) out.add(stage + " summary " + k + " " + v);
            });
      }
    }
  }

  private static boolean wallClock(String name) {
    return name.endsWith("_ms") || name.endsWith("_per_s") || name.endsWith("_seconds");
  }
}

package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.DirectoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupervisedTrainerTest {

  @TempDir Path dir;

  private static double mean(List<Double> xs, int from, int to) {
    return xs.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  @Test
  void lossFallsOnTheSyntheticCorpus() {
    var run =
        TestSpecs.run(
            TestSpecs.micro(TestSpecs.training(150, 3e-3)), new DirectoryStore(dir), null, true);
    List<Double> losses = run.result().losses();
    assertThat(run.result().outcome()).isEqualTo(Outcome.FINISHED);
    assertThat(losses).hasSize(150);
    // from ln(300) ~ 5.7 at the start to well below after 150 steps
    assertThat(mean(losses, 0, 5)).isGreaterThan(5.0);
    assertThat(mean(losses, 140, 150)).isLessThan(mean(losses, 0, 5) - 2.0);
    // the final weights on batches no step trained on: well below the start, near the train loss
    assertThat(run.result().evalLoss()).isLessThan(mean(losses, 0, 5) - 2.0);
    assertThat(run.result().evalLoss()).isCloseTo(mean(losses, 140, 150), within(0.5));
    assertThat(run.events().events())
        .filteredOn(e -> e instanceof RunnerEvent.CheckpointCommitted)
        .hasSize(1);
  }

  @Test
  void resumeReproducesTheUninterruptedRun() {
    TrainingConfig t = TestSpecs.training(40, 3e-3);
    CheckpointPolicy every20 = new CheckpointPolicy(20, 5, 0);
    var full =
        TestSpecs.run(
            TestSpecs.spec(ModelConfig.preset("micro"), t, 1, null, every20, null, null),
            new DirectoryStore(dir.resolve("a")),
            null,
            true);

    DirectoryStore store = new DirectoryStore(dir.resolve("b"));
    assertThatThrownBy(
            () ->
                TestSpecs.run(
                    TestSpecs.spec(
                        ModelConfig.preset("micro"),
                        TestSpecs.training(40, 3e-3),
                        1,
                        null,
                        every20,
                        null,
                        new FaultInjection(null, null, null, null, 25L, 1)),
                    store,
                    null,
                    true))
        .isInstanceOf(FaultInjector.InjectedCrash.class);
    // the crash at step 25 left the checkpoint of step 20
    String key = ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 20, 1);
    CheckpointReader.Loaded ckpt = CheckpointReader.load(store, key);
    var resumed =
        TestSpecs.run(
            TestSpecs.spec(
                ModelConfig.preset("micro"),
                t,
                2,
                null,
                every20,
                new CheckpointRef(key, 20L),
                null),
            store,
            ckpt,
            true);

    List<Double> a = full.result().losses().subList(20, 40);
    List<Double> b = resumed.result().losses();
    assertThat(b).hasSize(20);
    for (int i = 0; i < 20; i++) {
      assertThat(b.get(i))
          .as("loss at step %d", 20 + i)
          .isCloseTo(a.get(i), org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void aCorruptedCheckpointIsRefusedNamingTheFile() throws Exception {
    DirectoryStore store = new DirectoryStore(dir);
    TestSpecs.run(TestSpecs.micro(TestSpecs.training(5, 1e-3)), store, null, false);
    String key = ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 5, 1);
    Path weights;
    try (Stream<Path> files = Files.walk(dir)) {
      weights = files.filter(p -> p.endsWith("model.safetensors")).findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 3] ^= 0x40;
    Files.write(weights, bytes);
    assertThatThrownBy(() -> CheckpointReader.load(store, key))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining(weights.toString())
        .hasMessageContaining("is corrupt");
    Files.delete(dir.resolve(key));
    assertThatThrownBy(() -> CheckpointReader.load(store, key))
        .hasMessageContaining("has no manifest");
  }

  @Test
  void anInjectedSpikeIsDetectedWithinAFewSteps() {
    var run =
        TestSpecs.run(
            TestSpecs.spec(
                ModelConfig.preset("micro"),
                TestSpecs.training(200, 2e-3),
                1,
                null,
                new CheckpointPolicy(25, 5, 0),
                null,
                new FaultInjection(120L, 10, 300.0, null, null, 1)),
            new DirectoryStore(dir),
            null,
            true);
    assertThat(run.result().outcome()).isEqualTo(Outcome.UNSTABLE);
    var trigger = run.result().trigger();
    assertThat(trigger.step()).isBetween(120L, 128L);
    assertThat(trigger.kind())
        .isIn(
            RunnerEvent.InstabilityKind.LOSS_SPIKE, RunnerEvent.InstabilityKind.GRADIENT_EXPLOSION);
    assertThat(run.events().events())
        .anyMatch(
            e ->
                e instanceof RunnerEvent.Log l
                    && l.message().startsWith("FAULT INJECTION: learning rate x300"));
    RunnerEvent.Instability report =
        (RunnerEvent.Instability)
            run.events().events().stream()
                .filter(e -> e instanceof RunnerEvent.Instability)
                .findFirst()
                .orElseThrow();
    assertThat(report.message()).contains("newest checkpoint: ").contains("step-00000100-a1");
  }

  @Test
  void anInjectedNanIsDetectedAtOnceAndNothingIsUpdated() {
    var run =
        TestSpecs.run(
            TestSpecs.spec(
                ModelConfig.preset("micro"),
                TestSpecs.training(100, 2e-3),
                1,
                null,
                new CheckpointPolicy(25, 5, 0),
                null,
                new FaultInjection(null, null, null, 60L, null, 1)),
            new DirectoryStore(dir),
            null,
            true);
    assertThat(run.result().outcome()).isEqualTo(Outcome.UNSTABLE);
    assertThat(run.result().trigger().kind())
        .isEqualTo(RunnerEvent.InstabilityKind.NON_FINITE_LOSS);
    assertThat(run.result().trigger().step()).isEqualTo(60);
    assertThat(run.result().step()).isEqualTo(60);
  }

  @Test
  void injectionsStopAfterTheirAttempt() {
    var run =
        TestSpecs.run(
            TestSpecs.spec(
                ModelConfig.preset("micro"),
                TestSpecs.training(80, 2e-3),
                2,
                null,
                new CheckpointPolicy(25, 5, 0),
                null,
                new FaultInjection(null, null, null, 60L, null, 1)),
            new DirectoryStore(dir),
            null,
            true);
    assertThat(run.result().outcome()).isEqualTo(Outcome.FINISHED);
  }

  @Test
  void aHealthyRunOfThousandsOfStepsTriggersNothing() {
    var run =
        TestSpecs.run(
            TestSpecs.spec(
                ModelConfig.preset("micro"),
                TestSpecs.training(2500, 2e-3),
                1,
                null,
                new CheckpointPolicy(1000, 2, 0),
                null,
                null),
            new DirectoryStore(dir),
            null,
            true);
    assertThat(run.result().outcome()).isEqualTo(Outcome.FINISHED);
    assertThat(run.result().losses()).hasSize(2500);
  }
}

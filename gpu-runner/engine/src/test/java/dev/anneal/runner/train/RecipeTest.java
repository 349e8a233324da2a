package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.model.ModelShape;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The survey's recipe, piece by piece: schedule, ramp, accumulation, Adafactor, fp16, presets. */
class RecipeTest {

  @TempDir Path dir;

  private static double mean(List<Double> xs, int from, int to) {
    return xs.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  private static TrainingConfig cfg(
      long steps,
      int batch,
      int accum,
      String optimizer,
      String precision,
      TrainingConfig.BatchRamp ramp) {
    return TrainingConfig.builder()
        .steps(steps)
        .batchSize(batch)
        .seqLen(32)
        .gradAccum(accum)
        .lr(3e-3)
        .warmupFraction(0.05)
        .minLrRatio(0.1)
        .optimizer(optimizer)
        .precision(precision)
        .batchRamp(ramp)
        .build();
  }

  @Test
  void warmupThenCosineToTenPercent() {
    LrSchedule s = LrSchedule.of(1e-3, 0.01, 1000, 0.1);
    assertThat(s.warmupSteps()).isEqualTo(10);
    assertThat(s.at(0)).isCloseTo(1e-4, Offset.offset(1e-12));
    assertThat(s.at(9)).isCloseTo(1e-3, Offset.offset(1e-12));
    assertThat(s.at(10)).isCloseTo(1e-3, Offset.offset(1e-12));
    assertThat(s.at(505)).isCloseTo(0.55e-3, Offset.offset(1e-6));
    assertThat(s.at(1000)).isCloseTo(1e-4, Offset.offset(1e-12));
  }

  @Test
  void batchRampGrowsWithTokensInMultiplesOfTheAccumulation() {
    BatchRamp r =
        BatchRamp.of(cfg(10, 16, 2, null, null, new TrainingConfig.BatchRamp(4, 10_000L)));
    assertThat(r.rowsAt(0)).isEqualTo(4);
    assertThat(r.rowsAt(5_000)).isEqualTo(10);
    assertThat(r.rowsAt(10_000)).isEqualTo(16);
    assertThat(r.rowsAt(1_000_000)).isEqualTo(16);
  }

  @Test
  void gradientAccumulationMatchesOneBigBatch() {
    var whole =
        TestSpecs.run(
            TestSpecs.micro(cfg(15, 8, 1, null, null, null)),
            new DirectoryStore(dir.resolve("a")),
            null,
            false);
    var split =
        TestSpecs.run(
            TestSpecs.micro(cfg(15, 8, 4, null, null, null)),
            new DirectoryStore(dir.resolve("b")),
            null,
            false);
    for (int i = 0; i < 15; i++) {
      assertThat(split.result().losses().get(i))
          .as("step %d", i)
          .isCloseTo(whole.result().losses().get(i), Offset.offset(1e-4));
    }
  }

  @Test
  void batchRampTrainsAndReportsTheBatchSize() {
    var run =
        TestSpecs.run(
            TestSpecs.micro(cfg(30, 16, 1, null, null, new TrainingConfig.BatchRamp(2, 4000L))),
            new DirectoryStore(dir),
            null,
            false);
    List<Double> sizes =
        run.events().events().stream()
            .filter(e -> e instanceof RunnerEvent.Metrics)
            .map(e -> (RunnerEvent.Metrics) e)
            .flatMap(m -> m.points().stream())
            .filter(p -> p.name().equals("batch_size"))
            .map(RunnerEvent.MetricPoint::value)
            .toList();
    assertThat(sizes.get(0)).isEqualTo(2.0);
    assertThat(sizes.get(sizes.size() - 1)).isEqualTo(16.0);
    assertThat(sizes).isSorted();
  }

  @Test
  void adafactorTrains() {
    var run =
        TestSpecs.run(
            TestSpecs.micro(cfg(120, 8, 1, "adafactor", null, null)),
            new DirectoryStore(dir),
            null,
            false);
    List<Double> l = run.result().losses();
    assertThat(mean(l, 110, 120)).isLessThan(mean(l, 0, 5) - 1.5);
  }

  @Test
  void fp16MixedPrecisionTrainsWithALossScale() {
    var run =
        TestSpecs.run(
            TestSpecs.micro(cfg(120, 8, 1, null, "fp16-mixed", null)),
            new DirectoryStore(dir),
            null,
            false);
    List<Double> l = run.result().losses();
    assertThat(mean(l, 110, 120)).isLessThan(mean(l, 0, 5) - 1.5);
    var committed =
        run.events().events().stream()
            .filter(e -> e instanceof RunnerEvent.Metrics)
            .map(e -> (RunnerEvent.Metrics) e)
            .flatMap(m -> m.points().stream())
            .filter(p -> p.name().equals("loss_scale"))
            .toList();
    assertThat(committed).isNotEmpty().allMatch(p -> p.value() >= 1);
  }

  @Test
  void prefixLmTrains() {
    var spec =
        TestSpecs.spec(
            new ModelConfig("micro", null, null, null, null, null, null, null, null, "prefix"),
            cfg(120, 8, 1, null, null, null),
            1,
            null,
            new CheckpointPolicy(1000, 1, 0),
            null,
            null);
    var run = TestSpecs.run(spec, new DirectoryStore(dir), null, false);
    List<Double> l = run.result().losses();
    assertThat(mean(l, 110, 120)).isLessThan(mean(l, 0, 5) - 1.5);
  }

  @Test
  void bf16IsRefusedOnCpuWithAReason() {
    assertThatThrownBy(
            () ->
                TestSpecs.run(
                    TestSpecs.micro(cfg(5, 8, 1, null, "bf16-mixed", null)),
                    new DirectoryStore(dir),
                    null,
                    false))
        .hasMessageContaining("bf16-mixed needs a CUDA device");
  }

  @Test
  void presetsHaveTheAdvertisedSizes() {
    assertThat(ModelShape.of(ModelConfig.preset("tiny")).parameterCount())
        .isBetween(700_000L, 1_300_000L);
    assertThat(ModelShape.of(ModelConfig.preset("small")).parameterCount())
        .isBetween(8_000_000L, 12_000_000L);
  }

  @Test
  void memoryStaysFlatAcrossSteps() {
    assertThat(liveArraysAfter(40)).isEqualTo(liveArraysAfter(400));
  }

  private int liveArraysAfter(long steps) {
    var spec =
        TestSpecs.spec(
            ModelConfig.preset("micro"),
            cfg(steps, 8, 2, null, null, null),
            1,
            null,
            new CheckpointPolicy(100, 2, 0),
            null,
            null);
    ModelShape shape = ModelShape.of(spec.model());
    DirectoryStore store = new DirectoryStore(dir.resolve("s" + steps));
    TrainingInputs.Inputs in = TrainingInputs.prepare(spec, shape, store, null);
    var events = new dev.anneal.runner.events.EventLog("t", "p", spec.stage(), 1, s -> {});
    try (SupervisedTrainer t =
        new SupervisedTrainer(
            spec,
            shape,
            in.sampler(),
            in.tokenizer(),
            store,
            events,
            true,
            null,
            null,
            Objective.LANGUAGE_MODEL)) {
      t.run();
      int live = t.liveArrays();
      // the weights and two Adam moments per weight; nothing that grows with steps
      assertThat(live).isLessThanOrEqualTo(3 * t.params().all().size() + 4);
      return live;
    }
  }
}

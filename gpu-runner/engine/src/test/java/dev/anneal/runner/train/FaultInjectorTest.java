package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.events.EventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On-demand faults: a file in the runner's folder fires a spike or a NaN, once. */
class FaultInjectorTest {

  @TempDir Path dir;

  private final List<String> lines = new ArrayList<>();

  private FaultInjector arm(Boolean onDemand, int attempt) {
    RunSpec spec =
        TestSpecs.spec(
            ModelConfig.preset("micro"),
            TestSpecs.training(100, 1e-3),
            attempt,
            null,
            new CheckpointPolicy(50, 3, 0),
            null,
            new FaultInjection(null, 3, 10.0, null, null, null, onDemand));
    return FaultInjector.arm(spec, new EventLog("t", "p", spec.stage(), attempt, lines::add), dir);
  }

  @Test
  void aSpikeFileSpikesTheNextStepsOnceOnAnyAttempt() throws Exception {
    FaultInjector f = arm(true, 4); // past untilAttempt: on-demand faults still fire
    assertThat(f.learningRate(10, 0.5, "learning rate")).isEqualTo(0.5);
    Files.writeString(dir.resolve(FaultInjection.SPIKE_FILE), "");
    assertThat(f.learningRate(11, 0.5, "learning rate")).isEqualTo(5.0);
    assertThat(dir.resolve(FaultInjection.SPIKE_FILE)).doesNotExist();
    assertThat(f.learningRate(12, 0.5, "learning rate")).isEqualTo(5.0);
    assertThat(f.learningRate(13, 0.5, "learning rate")).isEqualTo(5.0);
    assertThat(f.learningRate(14, 0.5, "learning rate")).isEqualTo(0.5);
    assertThat(String.join("\n", lines))
        .contains("FAULT INJECTION (on demand): learning rate x10 for steps 11-13");
  }

  @Test
  void aNanFilePoisonsOneStep() throws Exception {
    FaultInjector f = arm(true, 1);
    assertThat(f.poisons(5, "loss")).isFalse();
    Files.writeString(dir.resolve(FaultInjection.NAN_FILE), "");
    assertThat(f.poisons(6, "loss")).isTrue();
    assertThat(f.poisons(7, "loss")).isFalse();
    assertThat(String.join("\n", lines))
        .contains("FAULT INJECTION (on demand): NaN loss at step 6");
  }

  @Test
  void withoutOnDemandTheFilesAreLeftAlone() throws Exception {
    FaultInjector f = arm(null, 1);
    Files.writeString(dir.resolve(FaultInjection.SPIKE_FILE), "");
    Files.writeString(dir.resolve(FaultInjection.NAN_FILE), "");
    assertThat(f.learningRate(1, 0.5, "learning rate")).isEqualTo(0.5);
    assertThat(f.poisons(1, "loss")).isFalse();
    assertThat(dir.resolve(FaultInjection.SPIKE_FILE)).exists();
  }
}

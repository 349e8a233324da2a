package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventsAndManifestTest {

  private static final Instant T = Instant.parse("2026-11-30T10:15:30.123Z");

  @Test
  void everyEventKindRoundTripsAndNonFiniteValuesSurvive() {
    EventBatch batch =
        new EventBatch(
            "research",
            "p1",
            StageKind.RLHF,
            3,
            List.of(
                new RunnerEvent.Metrics(
                    1,
                    T,
                    List.of(
                        new RunnerEvent.MetricPoint(10, "loss", Double.NaN),
                        new RunnerEvent.MetricPoint(10, "grad_norm", Double.POSITIVE_INFINITY),
                        new RunnerEvent.MetricPoint(10, "lr", 3e-4))),
                new RunnerEvent.CheckpointCommitted(
                    2,
                    T,
                    10,
                    "teams/research/pipelines/p1/rlhf/checkpoints/step-00000010-a3/manifest.json",
                    "b".repeat(64)),
                new RunnerEvent.Log(3, T, "WARN", "kl above target"),
                new RunnerEvent.Instability(
                    4,
                    T,
                    12,
                    RunnerEvent.InstabilityKind.KL_BLOWUP,
                    9.5,
                    2.0,
                    11,
                    12,
                    "KL 9.5 > 2.0"),
                new RunnerEvent.Failed(5, T, ExitCode.INSTABILITY.code(), "unstable"),
                new RunnerEvent.Finished(
                    6,
                    T,
                    12,
                    "teams/research/pipelines/p1/rlhf/checkpoints/step-00000012-a3/manifest.json",
                    Map.of("reward", 0.8))));
    String json = ProtocolJson.write(batch);
    assertThat(json).contains("\"type\" : \"instability\"");
    EventBatch back = ProtocolJson.readEventBatch(json);
    assertThat(back).isEqualTo(batch);
    RunnerEvent.Metrics m = (RunnerEvent.Metrics) back.events().get(0);
    assertThat(m.points().get(0).value()).isNaN();
    assertThat(m.points().get(1).value()).isInfinite();
  }

  @Test
  void sequenceNumbersMustIncrease() {
    assertThatThrownBy(
            () ->
                new EventBatch(
                    "t",
                    "p",
                    StageKind.SFT,
                    1,
                    List.of(
                        new RunnerEvent.Log(2, T, null, "a"),
                        new RunnerEvent.Log(2, T, null, "b"))))
        .hasMessage("events[1].seq: must increase, got 2 after 2");
  }

  @Test
  void unknownEventTypeIsRejected() {
    String json =
        """
        {"team":"t","pipeline":"p","stage":"sft","attempt":1,
         "events":[{"type":"telemetry","seq":1,"time":"2026-11-30T10:15:30Z"}]}
        """;
    assertThatThrownBy(() -> ProtocolJson.readEventBatch(json))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("events[0]")
        .hasMessageContaining("telemetry");
  }

  @Test
  void manifestRoundTripsAndJudgesHealth() {
    CheckpointManifest m =
        new CheckpointManifest(
            null,
            "research",
            "p1",
            StageKind.PRETRAIN,
            1,
            100,
            51_200,
            100,
            T,
            List.of(
                new CheckpointManifest.FileEntry("model.safetensors", "c".repeat(64), 4_000_000),
                new CheckpointManifest.FileEntry(
                    "optimizer.safetensors", "d".repeat(64), 8_000_000)),
            new CheckpointManifest.Health(3.2, 3.3, 0.8, null, false, Map.of()));
    CheckpointManifest back = ProtocolJson.readManifest(ProtocolJson.write(m));
    assertThat(back).isEqualTo(m);
    assertThat(back.totalBytes()).isEqualTo(12_000_000);
    assertThat(back.health().healthy()).isTrue();
    assertThat(new CheckpointManifest.Health(Double.NaN, null, null, null, null, null).healthy())
        .isFalse();
    assertThat(new CheckpointManifest.Health(2.0, null, null, 0.5, null, null).healthy())
        .as("an fp16 loss scale below 1 is unhealthy (OPT's restart rule)")
        .isFalse();
    assertThat(new CheckpointManifest.Health(2.0, null, null, null, true, null).healthy())
        .isFalse();
  }

  @Test
  void manifestOfAnotherFormatVersionIsRefused() {
    String json =
        ProtocolJson.write(
                new CheckpointManifest(
                    null,
                    "t",
                    "p",
                    StageKind.SFT,
                    1,
                    1,
                    1,
                    1,
                    T,
                    List.of(new CheckpointManifest.FileEntry("a", "e".repeat(64), 1)),
                    null))
            .replace("\"formatVersion\" : 1", "\"formatVersion\" : 9");
    assertThatThrownBy(() -> ProtocolJson.readManifest(json))
        .hasMessageStartingWith("formatVersion: this build reads version 1, got 9");
  }

  @Test
  void exitCodesClassifyOutcomes() {
    assertThat(ExitCode.outcomeOf(0)).isEqualTo(ExitCode.Outcome.SUCCEEDED);
    assertThat(ExitCode.outcomeOf(5)).isEqualTo(ExitCode.Outcome.INSTABILITY);
    assertThat(ExitCode.outcomeOf(2)).isEqualTo(ExitCode.Outcome.USER_ERROR);
    assertThat(ExitCode.outcomeOf(137)).isEqualTo(ExitCode.Outcome.INFRASTRUCTURE);
    assertThat(ExitCode.describe(137)).contains("out-of-memory");
    assertThat(ExitCode.describe(139)).isEqualTo("killed by signal 11");
  }
}

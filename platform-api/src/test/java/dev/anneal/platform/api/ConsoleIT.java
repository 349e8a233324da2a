package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The console in a real browser (Debian's chromium driven by playwright-core, the script {@code
 * web-ui/e2e/console.e2e.mjs}) against the embedded stack, on a real pipeline whose pre-training
 * spikes and rolls back: the stage graph, the loss chart with the rollback marked, a checkpoint
 * download, the spec editor's error at its line, no console errors. Screenshots land in {@code
 * target/console}.
 */
@EmbeddedStackTest
class ConsoleIT extends ApiTestSupport {

  static final Path CHROMIUM =
      Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));

  @Test
  void aNewcomerFollowsARolledBackPipelineInTheBrowser() throws Exception {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    if (!Files.isExecutable(CHROMIUM)) {
      // CI installs it (.ci/run); a developer without it is told, not failed
      assumeTrue(System.getenv("CI") == null, "chromium is required in CI");
      assumeTrue(false, "no chromium at " + CHROMIUM + " (apt-get install chromium)");
    }
    assumeTrue(
        Files.isDirectory(Path.of("../web-ui/node_modules/playwright-core")), "npm ci in web-ui");
    String token = operatorToken();
    ApiClient api = client(token);
    JsonNode p =
        api.post(
            "/api/v1/pipelines",
            "application/yaml",
            """
            apiVersion: anneal.dev/v1
            kind: Pipeline
            metadata: {name: console-demo}
            model: {preset: micro}
            tokenizer: {vocabSize: 300}
            datasets:
              - {name: prose, source: "synthetic:prose?docs=300"}
              - {name: chat, source: "synthetic:chat?docs=200"}
            stages:
              - kind: pretrain
                data: [{dataset: prose}]
                hyperparameters: {steps: 120, batchSize: 8, seqLen: 32, lr: 0.002}
                checkpoint: {everySteps: 20, keepLast: 10}
                stability: {rollback: {steps: 20}, skipBatches: 30, lrFactor: 0.5, maxRollbacks: 2}
                inject: {spikeAtStep: 80, spikeSteps: 10, spikeLrMultiplier: 300}
              - {kind: sft, from: pretrain, data: [{dataset: chat}], hyperparameters: {steps: 20, batchSize: 8, seqLen: 32}}
            """,
            Map.of());
    String id = p.path("id").asText();
    awaitEnd(api, id);
    JsonNode detail = api.get("/api/v1/pipelines/" + id);
    assertThat(detail.path("status").asText()).as(detail.toString()).isEqualTo("SUCCEEDED");
    assertThat(detail.at("/stages/0/rollbacks").asInt()).isEqualTo(1);
    assertThat(detail.at("/stages/0/attempts/1/resumeStep").asLong()).isPositive();

    Path shots = Path.of("target/console").toAbsolutePath();
    Process node =
        new ProcessBuilder("node", "e2e/console.e2e.mjs", base(), token, id, shots.toString())
            .directory(Path.of("../web-ui").toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(node.waitFor(5, TimeUnit.MINUTES)).isTrue();
    System.out.println(out);
    assertThat(node.exitValue()).as(out).isZero();
    assertThat(out).doesNotContain("FAIL");
    assertThat(shots.resolve("stage.png")).isRegularFile();
  }

  static void awaitEnd(ApiClient api, String id) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (System.nanoTime() < deadline) {
      String s = api.get("/api/v1/pipelines/" + id).path("status").asText();
      if (s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED")) return;
      Thread.sleep(500);
    }
    throw new AssertionError("pipeline " + id + " did not end in 4 minutes");
  }
}

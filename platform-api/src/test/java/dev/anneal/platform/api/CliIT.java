package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A newcomer's session, through the CLI against the embedded stack: log in, upload a dataset,
 * submit and watch a real (tiny) pre-training pipeline to the end, read its checkpoints, register
 * and promote the model, download it with every sha256 checked, and start a second pipeline from
 * the registered model.
 */
@EmbeddedStackTest
class CliIT extends ApiTestSupport {

  @TempDir Path dir;

  @Test
  void aNewcomersSessionFromLoginToARegisteredModel() throws Exception {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    System.setProperty("anneal.config", dir.resolve("credentials.json").toString());
    try {
      String[] t = team("cli");
      String server = base();

      String[] bad = cli("login", "--server", server, "--token", "anl_" + "x".repeat(38));
      assertThat(bad[0]).isEqualTo("1");
      assertThat(bad[2]).contains("a valid API token is required");
      String[] login = cli("login", "--server", server, "--token", t[1]);
      assertThat(login[0]).as(login[2]).isEqualTo("0");
      assertThat(login[1]).contains("as team " + t[0]);

      Path data = dir.resolve("prose.jsonl");
      Files.writeString(data, textDataset(300));
      String[] up = cli("datasets", "upload", data.toString());
      assertThat(up[0]).as(up[2]).isEqualTo("0");
      assertThat(up[1]).contains("300 records of text").contains("source: dataset:prose@v1");
      Path broken = dir.resolve("broken.jsonl");
      Files.writeString(broken, "{\"text\":\"ok\"}\n{\"text\":\n");
      String[] refused = cli("datasets", "upload", broken.toString());
      assertThat(refused[0]).isEqualTo("1");
      assertThat(refused[2]).contains("line 2: not JSON");

      Path spec = dir.resolve("pipeline.yaml");
      Files.writeString(spec, pretrainSpec("cli-run", "dataset:prose", 30));
      String[] submit = cli("submit", spec.toString(), "--watch");
      assertThat(submit[0]).as(submit[1] + submit[2]).isEqualTo("0");
      Matcher m = Pattern.compile("submitted cli-run: ([0-9a-f-]{36})").matcher(submit[1]);
      assertThat(m.find()).as(submit[1]).isTrue();
      String id = m.group(1);
      assertThat(submit[1])
          .contains("[########################]     30/30")
          .contains("checkpoint committed at step")
          .contains("cli-run: SUCCEEDED");

      assertThat(cli("list")[1]).contains(id).contains("SUCCEEDED");
      assertThat(cli("status", id)[1]).contains("pretrain").contains("SUCCEEDED").contains("30/30");
      assertThat(cli("logs", id)[1]).contains("finished at step 30");
      String[] watch = cli("watch", id);
      assertThat(watch[0]).isEqualTo("0");
      assertThat(watch[1])
          .contains("checkpoint committed at step 30")
          .contains("cli-run: SUCCEEDED");

      ApiClient api = client(t[1]);
      JsonNode checkpoints =
          api.get("/api/v1/pipelines/" + id + "/checkpoints").path("checkpoints");
      assertThat(checkpoints).hasSizeGreaterThanOrEqualTo(3);
      for (JsonNode c : checkpoints) {
        assertThat(c.path("bytes").asLong()).isPositive();
        assertThat(c.path("healthy").asBoolean()).isTrue();
        assertThat(c.path("health").path("loss").isNumber()).isTrue();
      }
      JsonNode loss =
          api.get("/api/v1/pipelines/" + id + "/stages/pretrain/metrics?name=loss")
              .at("/series/0/data");
      assertThat(loss).hasSize(30);
      assertThat(loss.get(29).path("value").asDouble())
          .as("the loss falls on the uploaded data")
          .isLessThan(loss.get(0).path("value").asDouble());

      String[] reg =
          cli("models", "register", "--name", "tiny-lm", "--pipeline", id, "--stage", "pretrain");
      assertThat(reg[0]).as(reg[2]).isEqualTo("0");
      assertThat(reg[1]).contains("registered tiny-lm@v1");
      JsonNode model = api.get("/api/v1/models?name=tiny-lm").at("/models/0");
      assertThat(model.at("/lineage/datasets/0/name").asText()).isEqualTo("prose");
      assertThat(model.at("/lineage/step").asLong()).isEqualTo(30);
      api.postJson(
          "/api/v1/models/" + model.path("id").asText() + "/promote",
          Map.of("label", "production"));

      Path out = dir.resolve("model");
      String[] dl = cli("models", "download", model.path("id").asText(), out.toString());
      assertThat(dl[0]).as(dl[2]).isEqualTo("0");
      assertThat(dl[1]).contains("sha256 checked");
      assertThat(out.resolve("model.safetensors")).isRegularFile();
      assertThat(out.resolve("manifest.json")).isRegularFile();
      assertThat(out.resolve("hf/config.json")).isRegularFile();

      // a second pipeline starts from the registered (production) model
      Path second = dir.resolve("second.yaml");
      Files.writeString(
          second,
          pretrainSpec("from-model", "dataset:prose", 2000)
              .replace("  - kind: pretrain\n", "  - kind: pretrain\n    from: model:tiny-lm\n"));
      String[] s2 = cli("submit", second.toString());
      assertThat(s2[0]).as(s2[2]).isEqualTo("0");
      Matcher m2 = Pattern.compile("submitted from-model: ([0-9a-f-]{36})").matcher(s2[1]);
      assertThat(m2.find()).isTrue();
      String id2 = m2.group(1);
      long deadline = System.nanoTime() + 60_000_000_000L;
      JsonNode d2 = api.get("/api/v1/pipelines/" + id2);
      while (d2.at("/stages/0/initFrom").isNull() && System.nanoTime() < deadline) {
        Thread.sleep(200);
        d2 = api.get("/api/v1/pipelines/" + id2);
      }
      assertThat(d2.at("/stages/0/initFrom").asText()).isEqualTo(model.path("checkpoint").asText());
      assertThat(d2.at("/lineage/models/0/name").asText()).isEqualTo("tiny-lm");
      String[] cancel = cli("cancel", id2);
      assertThat(cancel[0]).as(cancel[2]).isEqualTo("0");
      ApiIT.awaitStatus(api, id2, "CANCELLED");
    } finally {
      System.clearProperty("anneal.config");
    }
  }
}

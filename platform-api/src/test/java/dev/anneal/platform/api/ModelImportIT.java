package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.datafiles.Hyparquet;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team imports a Hugging Face checkpoint (a toy Qwen3 written by an independent numpy writer in
 * the exact layout transformers saves: bf16 shards, an index, its tokenizer) through the CLI, the
 * import refuses what it cannot train with the file and the reason, and an SFT pipeline starts from
 * {@code model:<name>}, trains it (its loss falls) and exports a Qwen3 again.
 */
@EmbeddedStackTest
class ModelImportIT extends ApiTestSupport {

  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir Path dir;

  private String chatSha256;

  /** 300 short dialogues (sums, a system prompt in every tenth) as a Parquet file. */
  private Path chatParquet() throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      int a = i % 17;
      int b = (i * 7) % 13;
      String system =
          i % 10 == 0 ? "{\"role\":\"system\",\"content\":\"Answer with the number.\"}," : "";
      lines.add(
          "{\"messages\":["
              + system
              + "{\"role\":\"user\",\"content\":\"What is "
              + a
              + " plus "
              + b
              + "?\"},{\"role\":\"assistant\",\"content\":\"It is "
              + (a + b)
              + ".\"}]}");
    }
    return Hyparquet.write(dir, "chat", lines, "--codec", "SNAPPY", "--row-group", "128");
  }

  @Test
  void anImportedQwen3IsCheckedRegisteredFineTunedAndExported() throws Exception {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    Path ckpt = toyCheckpoint("qwen3", dir.resolve("qwen3"));
    Files.writeString(ckpt.resolve("vocab.json"), "{}"); // a file an import does not take
    String[] t = team("import");
    ApiClient api = client(t[1]);
    System.setProperty("anneal.config", dir.resolve("credentials.json").toString());
    try {
      assertThat(cli("login", "--server", base(), "--token", t[1])[0]).isEqualTo("0");
      String[] imp = cli("models", "import", ckpt.toString(), "--name", "toy-qwen3");
      assertThat(imp[0]).as(imp[1] + imp[2]).isEqualTo("0");
      assertThat(imp[1])
          .contains("not sent (an import does not take them): vocab.json")
          .contains("imported toy-qwen3@v1")
          .contains("Qwen3ForCausalLM")
          .contains("from: model:toy-qwen3@v1");
      // the SFT data: Parquet as the Hub holds it, written by npm's hyparquet-writer
      String[] up = cli("datasets", "upload", chatParquet().toString(), "--name", "chat");
      assertThat(up[0]).as(up[1] + up[2]).isEqualTo("0");
      assertThat(up[1]).contains("uploaded chat: 300 records of chat (parquet)");
      chatSha256 = up[1].replaceAll("(?s).*sha256 ([0-9a-f]{64}).*", "$1");
    } finally {
      System.clearProperty("anneal.config");
    }
    JsonNode model = api.get("/api/v1/models?name=toy-qwen3").at("/models/0");
    assertThat(model.at("/lineage/origin").asText()).isEqualTo("imported");
    assertThat(model.at("/lineage/family").asText()).isEqualTo("qwen3");
    assertThat(model.path("checkpoint").asText())
        .isEqualTo("hf:teams/" + t[0] + "/models/toy-qwen3/v1/");
    JsonNode files = model.at("/lineage/files");
    assertThat(files).hasSize(6);
    for (JsonNode f : files) {
      assertThat(f.path("sha256").asText())
          .as(f.path("name").asText())
          .isEqualTo(sha256(ckpt.resolve(f.path("name").asText())));
    }

    // what cannot be trained is refused before anything is stored, naming the file
    List<Path> all = new ArrayList<>();
    try (var s = Files.list(ckpt)) {
      s.filter(p -> !p.getFileName().toString().equals("vocab.json")).sorted().forEach(all::add);
    }
    Path shard2 = ckpt.resolve("model-00002-of-00002.safetensors");
    assertRefused(
        t[1],
        all.stream().filter(p -> !p.equals(shard2)).toList(),
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json: names model-00002-of-00002.safetensors for");
    Path pickle = dir.resolve("pytorch_model.bin");
    Files.write(pickle, new byte[] {(byte) 0x80, 2});
    assertRefused(
        t[1], List.of(ckpt.resolve("config.json"), pickle), "pytorch_model.bin", "pickle");
    Path neox = dir.resolve("neox");
    Files.createDirectories(neox);
    for (Path p : all) Files.copy(p, neox.resolve(p.getFileName()));
    Files.writeString(
        neox.resolve("config.json"),
        Files.readString(ckpt.resolve("config.json")).replace("\"qwen3\"", "\"gpt_neox\""));
    List<Path> neoxFiles = all.stream().map(p -> neox.resolve(p.getFileName())).toList();
    assertRefused(
        t[1],
        neoxFiles,
        "config.json",
        "model/config.json: model_type 'gpt_neox' is not supported (llama, mistral, qwen2, qwen3)");
    Path torn = dir.resolve("torn");
    Files.createDirectories(torn);
    for (Path p : all) Files.copy(p, torn.resolve(p.getFileName()));
    byte[] cut = Files.readAllBytes(shard2);
    Files.write(torn.resolve(shard2.getFileName()), java.util.Arrays.copyOf(cut, cut.length - 100));
    assertRefused(
        t[1],
        all.stream().map(p -> torn.resolve(p.getFileName())).toList(),
        "model-00002-of-00002.safetensors",
        "has offsets that do not fit its shape or the file");
    assertThat(api.get("/api/v1/models?name=toy-qwen3").path("models")).hasSize(1);

    // SFT from the imported model: its shape and tokenizer come from the checkpoint
    String spec =
        """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: qwen3-sft, labels: {license: apache-2.0}}
        datasets: [{name: chat, source: "dataset:chat"}]
        stages:
          - kind: sft
            from: model:toy-qwen3
            data: [{dataset: chat}]
            hyperparameters: {steps: 40, batchSize: 8, seqLen: 96, lr: 0.003}
            export: {dtype: bfloat16, maxShardSize: 20KB, baseModel: Qwen/Qwen3-0.6B}
            gate: {metric: final_loss, max: 50}
        """;
    JsonNode submitted = api.post("/api/v1/pipelines", "application/yaml", spec, Map.of());
    String id = submitted.path("id").asText();
    awaitEnd(api, id);
    JsonNode p = api.get("/api/v1/pipelines/" + id);
    assertThat(p.path("status").asText()).as(p.toString()).isEqualTo("SUCCEEDED");
    assertThat(p.at("/stages/0/initFrom").asText()).isEqualTo(model.path("checkpoint").asText());
    JsonNode loss =
        api.get("/api/v1/pipelines/" + id + "/stages/sft/metrics?name=loss").at("/series/0/data");
    assertThat(loss.size()).isGreaterThanOrEqualTo(40);
    double first =
        (loss.get(0).path("value").asDouble() + loss.get(1).path("value").asDouble()) / 2;
    double last =
        (loss.get(loss.size() - 1).path("value").asDouble()
                + loss.get(loss.size() - 2).path("value").asDouble())
            / 2;
    assertThat(last).as("the imported model learns the chat data").isLessThan(first * 0.8);

    JsonNode ckpts = api.get("/api/v1/pipelines/" + id + "/checkpoints").path("checkpoints");
    String finalId = ckpts.get(ckpts.size() - 1).path("id").asText();
    JsonNode dl = api.get("/api/v1/checkpoints/" + finalId + "/download");
    String config = null;
    String card = null;
    List<String> exported = new ArrayList<>();
    for (JsonNode f : dl.path("files")) {
      String path = f.path("path").asText();
      if (path.startsWith("hf/")) exported.add(path.substring(3));
      if (path.equals("hf/config.json") || path.equals("hf/README.md")) {
        try (var in = api.download(f.path("url").asText())) {
          String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          if (path.endsWith(".json")) config = text;
          else card = text;
        }
      }
    }
    // bfloat16 in shards of 20 KB with their index, and a model card
    assertThat(exported)
        .contains("model.safetensors.index.json", "README.md")
        .doesNotContain("model.safetensors")
        .anyMatch(f -> f.matches("model-00001-of-0000[2-9]\\.safetensors"));
    assertThat(card).startsWith("---\n");
    // the front matter, read by a YAML parser none of us wrote (SnakeYAML)
    Map<String, Object> front =
        new org.yaml.snakeyaml.Yaml().load(card.substring(4, card.indexOf("\n---\n", 4)));
    assertThat(front)
        .containsEntry("library_name", "transformers")
        .containsEntry("license", "apache-2.0")
        .containsEntry("base_model", "Qwen/Qwen3-0.6B")
        .containsEntry("datasets", List.of("chat"))
        .containsEntry("tags", List.of("anneal", "sft"));
    assertThat(card).contains("Qwen3ForCausalLM").contains("| final_loss |");
    // the lineage the platform holds, added once the gate decided
    @SuppressWarnings("unchecked")
    Map<String, Object> anneal = (Map<String, Object>) front.get("anneal");
    assertThat(anneal)
        .containsEntry("team", t[0])
        .containsEntry("pipeline", "qwen3-sft")
        .containsEntry("started_from", "model:toy-qwen3@v1 (imported, qwen3)");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> cardData = (List<Map<String, Object>>) anneal.get("datasets");
    assertThat(cardData)
        .singleElement()
        .satisfies(
            d ->
                assertThat(d)
                    .containsEntry("source", "dataset:chat@v1")
                    .containsEntry("version", 1)
                    .containsEntry("sha256", chatSha256)
                    .containsEntry("records", 300)
                    .containsEntry("file", "parquet"));
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> stage =
        ((List<Map<String, Map<String, Object>>>) anneal.get("stages")).get(0);
    assertThat(anneal.get("stages").toString()).contains("kind=sft").contains("status=SUCCEEDED");
    assertThat(stage.get("figures")).containsKey("final_loss");
    assertThat(stage.get("gate")).containsEntry("result", "passed");
    assertThat(card).contains("## Lineage").contains("`" + chatSha256 + "`");
    assertThat(config).as("the final checkpoint's hf/ export").isNotNull();
    JsonNode c = ApiClient.JSON.readTree(config);
    assertThat(c.path("model_type").asText()).isEqualTo("qwen3");
    assertThat(c.path("architectures").get(0).asText()).isEqualTo("Qwen3ForCausalLM");
    assertThat(c.path("head_dim").asInt()).isEqualTo(16);
    assertThat(c.path("hidden_size").asInt()).isEqualTo(32);
    assertThat(c.path("torch_dtype").asText()).isEqualTo("bfloat16");

    // an imported model downloads like any other, every file's sha256 checked
    Path back = dir.resolve("back");
    System.setProperty("anneal.config", dir.resolve("credentials.json").toString());
    try {
      String[] d = cli("models", "download", model.path("id").asText(), back.toString());
      assertThat(d[0]).as(d[2]).isEqualTo("0");
      assertThat(d[1]).contains("downloaded 6 files");
    } finally {
      System.clearProperty("anneal.config");
    }
    assertThat(sha256(back.resolve("model-00001-of-00002.safetensors")))
        .isEqualTo(sha256(ckpt.resolve("model-00001-of-00002.safetensors")));
  }

  private void assertRefused(String token, List<Path> files, String field, String detail)
      throws Exception {
    String boundary = "b-" + UUID.randomUUID();
    List<HttpRequest.BodyPublisher> parts = new ArrayList<>();
    for (Path f : files) {
      parts.add(
          HttpRequest.BodyPublishers.ofString(
              "--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                  + f.getFileName()
                  + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
      parts.add(HttpRequest.BodyPublishers.ofFile(f));
      parts.add(HttpRequest.BodyPublishers.ofString("\r\n"));
    }
    parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n"));
    HttpResponse<String> r =
        send(
            req("POST", "/api/v1/models/refused/import", token, null, null)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(
                    HttpRequest.BodyPublishers.concat(
                        parts.toArray(HttpRequest.BodyPublisher[]::new))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    JsonNode problem = json(r);
    assertThat(problem.path("type").asText()).endsWith("/invalid-model");
    assertThat(problem.path("field").asText()).isEqualTo(field);
    assertThat(problem.path("detail").asText()).contains(detail);
  }

  @Test
  void llama3AndQwen3WithTheirRealTokenizersAreFineTunedOnTheirOwnTemplatesAndExported()
      throws Exception {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    Path hub = Path.of("../gpu-runner/engine/target/hub").toAbsolutePath().normalize();
    assumeTrue(
        Files.isRegularFile(hub.resolve("llama3/tokenizer.json")),
        "the engine's build fetches the real tokenizers (npm)");
    String[] t = team("real-tokenizers");
    ApiClient api = client(t[1]);
    String[][] models = {
      {"llama", "llama3", "LlamaForCausalLM", "llama"},
      {"qwen3", "qwen3", "Qwen3ForCausalLM", "qwen3"}
    };
    for (String[] m : models) {
      Path ckpt = toyCheckpoint(m[0], dir.resolve("real-" + m[1]), hub.resolve(m[1]));
      String name = "toy-" + m[1] + "-real";
      System.setProperty("anneal.config", dir.resolve("credentials.json").toString());
      try {
        assertThat(cli("login", "--server", base(), "--token", t[1])[0]).isEqualTo("0");
        String[] imp = cli("models", "import", ckpt.toString(), "--name", name);
        assertThat(imp[0]).as(imp[1] + imp[2]).isEqualTo("0");
      } finally {
        System.clearProperty("anneal.config");
      }
      // SFT on the tokenizer's own chat template (Llama 3's headers, Qwen3's <|im_start|>)
      String spec =
          """
          apiVersion: anneal.dev/v1
          kind: Pipeline
          metadata: {name: NAME-sft}
          datasets: [{name: chat, source: "synthetic:chat?docs=200"}]
          stages:
            - kind: sft
              from: model:NAME
              data: [{dataset: chat}]
              hyperparameters: {steps: 16, batchSize: 4, seqLen: 64, lr: 0.003}
          """
              .replace("NAME", name);
      String id =
          api.post("/api/v1/pipelines", "application/yaml", spec, Map.of()).path("id").asText();
      awaitEnd(api, id);
      JsonNode p = api.get("/api/v1/pipelines/" + id);
      assertThat(p.path("status").asText()).as(m[1] + ": " + p).isEqualTo("SUCCEEDED");
      JsonNode loss =
          api.get("/api/v1/pipelines/" + id + "/stages/sft/metrics?name=loss").at("/series/0/data");
      double first = loss.get(0).path("value").asDouble();
      double last = loss.get(loss.size() - 1).path("value").asDouble();
      assertThat(last).as(m[1] + " learns its replies: " + loss).isLessThan(first * 0.9);

      JsonNode ckpts = api.get("/api/v1/pipelines/" + id + "/checkpoints").path("checkpoints");
      JsonNode dl =
          api.get(
              "/api/v1/checkpoints/"
                  + ckpts.get(ckpts.size() - 1).path("id").asText()
                  + "/download");
      Map<String, String> exported = new java.util.HashMap<>();
      for (JsonNode f : dl.path("files")) {
        String path = f.path("path").asText();
        if (path.equals("hf/config.json") || path.equals("hf/tokenizer_config.json")) {
          try (var in = api.download(f.path("url").asText())) {
            exported.put(path, new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
        }
      }
      JsonNode c = ApiClient.JSON.readTree(exported.get("hf/config.json"));
      assertThat(c.path("architectures").get(0).asText()).isEqualTo(m[2]);
      assertThat(c.path("model_type").asText()).isEqualTo(m[3]);
      // the tokenizer's config (its chat template) leaves as it came
      assertThat(exported.get("hf/tokenizer_config.json"))
          .isEqualTo(Files.readString(hub.resolve(m[1]).resolve("tokenizer_config.json")));
    }
  }

  /** The independent numpy writer's checkpoint of {@code family} in {@code out}. */
  private Path toyCheckpoint(String family, Path out) throws Exception {
    return toyCheckpoint(family, out, null);
  }

  /** The same, with a real model's tokenizer files from {@code tokenizer} when not null. */
  private Path toyCheckpoint(String family, Path out, Path tokenizer) throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3 (.ci/run installs it)");
    Path script = dir.resolve("write_toy_checkpoint.py");
    try (var in = getClass().getResourceAsStream("/hf/write_toy_checkpoint.py")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Process p =
        new ProcessBuilder(
                tokenizer == null
                    ? List.of(PYTHON.toString(), script.toString(), family, out.toString(), "1")
                    : List.of(
                        PYTHON.toString(),
                        script.toString(),
                        family,
                        out.toString(),
                        "1",
                        tokenizer.toString()))
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assumeTrue(!log.contains("No module named 'numpy'"), "no numpy (.ci/run installs it)");
    assertThat(p.exitValue()).as(log).isZero();
    return out;
  }

  private static void awaitEnd(ApiClient api, String id) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
    while (System.nanoTime() < deadline) {
      String s = api.get("/api/v1/pipelines/" + id).path("status").asText();
      if (s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED")) return;
      Thread.sleep(500);
    }
  }

  private static String sha256(Path f) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
  }
}

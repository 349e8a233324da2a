package dev.anneal.platform.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.platform.cli.AnnealCli;
import dev.anneal.platform.cli.client.ApiClient;
import dev.anneal.platform.embedded.EmbeddedProperties;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import picocli.CommandLine;

/**
 * What the API's end-to-end tests share: the embedded stack (one Spring context for every class
 * with these properties), the operator's bootstrap token, and helpers that make teams and tokens.
 */
abstract class ApiTestSupport {
  static final String[] PROPERTIES = {
    "anneal.embedded.data-dir=target/it-data/${random.uuid}",
    "anneal.embedded.postgres-port=0",
    "anneal.embedded.temporal-port=0",
    "anneal.embedded.s3-port=0",
    "anneal.runner.jar=../gpu-runner/engine/target/anneal-runner.jar"
  };

  @LocalServerPort int port;
  @Autowired EmbeddedProperties embedded;
  @Autowired JdbcTemplate jdbc;

  final HttpClient http = HttpClient.newHttpClient();

  String base() {
    return "http://127.0.0.1:" + port;
  }

  String operatorToken() throws IOException {
    return Files.readString(embedded.dataDir().resolve("bootstrap-token")).trim();
  }

  ApiClient client(String token) {
    return new ApiClient(base(), token);
  }

  /** A fresh team with an admin token; returns {team name, token}. */
  String[] team(String prefix) throws IOException {
    ApiClient op = client(operatorToken());
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
    op.postJson("/api/v1/teams", Map.of("name", name, "maxConcurrentPipelines", 10));
    JsonNode t =
        op.postJson(
            "/api/v1/teams/" + name + "/tokens", Map.of("name", "ci", "scopes", List.of("admin")));
    return new String[] {name, t.path("token").asText()};
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest.Builder req(String method, String path, String token, String type, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (type != null) b.header("Content-Type", type);
    return b;
  }

  /** Runs the CLI in-process: {exit status, stdout, stderr}. */
  static String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine c = AnnealCli.commandLine();
    c.setOut(new PrintWriter(out, true));
    c.setErr(new PrintWriter(err, true));
    int status = c.execute(args);
    return new String[] {Integer.toString(status), out.toString(), err.toString()};
  }

  static JsonNode json(HttpResponse<String> r) throws IOException {
    return ApiClient.JSON.readTree(r.body());
  }

  static String textDataset(int lines) {
    StringBuilder sb = new StringBuilder();
    String[] words = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"};
    for (int i = 0; i < lines; i++) {
      StringBuilder line = new StringBuilder();
      for (int w = 0; w < 12; w++) line.append(words[(i * 7 + w * 3) % words.length]).append(' ');
      sb.append("{\"text\":\"").append(line.toString().trim()).append(".\"}\n");
    }
    return sb.toString();
  }

  static String pretrainSpec(String name, String source, int steps) {
    return """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: %s}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets: [{name: prose, source: "%s"}]
        stages:
          - kind: pretrain
            data: [{dataset: prose}]
            hyperparameters: {steps: %d, batchSize: 8, seqLen: 32, lr: 0.002}
            checkpoint: {everySteps: 10}
        """
        .formatted(name, source, steps);
  }
}

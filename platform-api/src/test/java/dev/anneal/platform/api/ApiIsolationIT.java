package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Teams are kept apart: a second team's token, sent to every endpoint the API has (read from the
 * handler mappings, so a new endpoint is walked without editing this test) with the first team's
 * ids in the path, gets 404 — the same answer as for an id that does not exist — and changes
 * nothing; its lists show nothing of the first team.
 */
@EmbeddedStackTest
class ApiIsolationIT extends ApiTestSupport {

  @Autowired MetadataStore meta;

  @Autowired
  @Qualifier("requestMappingHandlerMapping")
  RequestMappingHandlerMapping mappings;

  private static final Pattern VAR = Pattern.compile("\\{([^}:]+)[^}]*}");

  @Test
  void anotherTeamsTokenFindsNothingAndChangesNothing() throws Exception {
    String[] owner = team("owner");
    String[] intruder = team("intruder");
    ApiClient a = client(owner[1]);

    // the owner's objects: a pipeline with a stage, an attempt and a checkpoint; a dataset; a
    // model; a member; a token
    UUID teamId = jdbc.queryForObject("SELECT id FROM teams WHERE name = ?", UUID.class, owner[0]);
    UUID pipeline = meta.pipelines().create(teamId, "secret-run", "{}", "wf-" + UUID.randomUUID());
    meta.pipelines().setStatus(pipeline, PipelineStatus.RUNNING, null);
    UUID stage = meta.stages().create(pipeline, 0, "pretrain", StageKind.PRETRAIN, 10, 0);
    UUID attempt = meta.attempts().create(stage, 1, "first");
    UUID checkpoint = UUID.randomUUID();
    jdbc.update(
        "INSERT INTO checkpoints (id, stage_id, attempt_id, step, uri, sha256, bytes, state)"
            + " VALUES (?, ?, ?, 10, ?, ?, 0, 'COMMITTED')",
        checkpoint,
        stage,
        attempt,
        "teams/" + owner[0] + "/x/manifest.json",
        "0".repeat(64));
    a.post("/api/v1/datasets/private", "application/x-ndjson", textDataset(5), Map.of());
    JsonNode model =
        a.postJson(
            "/api/v1/models", Map.of("name", "crown", "checkpointId", checkpoint.toString()));
    a.postJson("/api/v1/teams/" + owner[0] + "/members", Map.of("email", "owner@example.org"));
    JsonNode token =
        a.postJson(
            "/api/v1/teams/" + owner[0] + "/tokens",
            Map.of("name", "x", "scopes", List.of("read")));

    Map<String, String> values =
        Map.of(
            "team", owner[0],
            "email", "owner@example.org",
            "name", "private",
            "version", "1",
            "stage", "pretrain");
    List<String> walked = new ArrayList<>();
    for (Map.Entry<RequestMappingInfo, ?> e : mappings.getHandlerMethods().entrySet()) {
      for (String pattern : e.getKey().getPatternValues()) {
        if (!pattern.startsWith("/api/v1/") || !pattern.contains("{")) continue;
        StringBuilder path = new StringBuilder();
        Matcher m = VAR.matcher(pattern);
        while (m.find()) {
          String var = m.group(1);
          String value;
          if (var.equals("id")) {
            value =
                pattern.startsWith("/api/v1/pipelines")
                    ? pipeline.toString()
                    : pattern.startsWith("/api/v1/checkpoints")
                        ? checkpoint.toString()
                        : pattern.startsWith("/api/v1/models")
                            ? model.path("id").asText()
                            : token.at("/info/id").asText();
          } else {
            value = values.get(var);
          }
          assertThat(value).as("a value for {%s} in %s", var, pattern).isNotNull();
          m.appendReplacement(path, Matcher.quoteReplacement(value));
        }
        m.appendTail(path);
        var methods = e.getKey().getMethodsCondition().getMethods();
        for (RequestMethod method :
            methods.isEmpty() ? java.util.Set.of(RequestMethod.GET) : methods) {
          if (method == RequestMethod.POST && pattern.equals("/api/v1/datasets/{name}")) {
            continue; // an upload names the caller's own dataset: checked below
          }
          if (method == RequestMethod.POST && pattern.equals("/api/v1/models/{name}/import")) {
            continue; // an import names the caller's own model: checked below
          }
          String body = method == RequestMethod.GET || method == RequestMethod.DELETE ? null : "{}";
          String type = body == null ? null : "application/json";
          HttpResponse<String> r =
              send(req(method.name(), path.toString(), intruder[1], type, body));
          walked.add(method + " " + pattern + " -> " + r.statusCode());
          if (r.statusCode() == 403) {
            assertThat(json(r).path("type").asText())
                .as(method + " " + path)
                .endsWith("/operator-only");
          } else {
            assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isEqualTo(404);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
          }
        }
      }
    }
    assertThat(walked).as(String.join("\n", walked)).hasSizeGreaterThan(25);

    // uploading under the owner's dataset name makes the intruder's own dataset, apart
    HttpResponse<String> upload =
        send(
            req(
                "POST",
                "/api/v1/datasets/private",
                intruder[1],
                "application/x-ndjson",
                textDataset(3)));
    assertThat(upload.statusCode()).isEqualTo(201);
    assertThat(json(upload).path("key").asText())
        .isEqualTo("teams/" + intruder[0] + "/datasets/private/v1/data.jsonl");

    // importing under the owner's model name is the intruder's own (refused) import, apart
    String boundary = "b-" + UUID.randomUUID();
    HttpResponse<String> imported =
        send(
            req("POST", "/api/v1/models/crown/import", intruder[1], null, null)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofString(
                        "--"
                            + boundary
                            + "\r\nContent-Disposition: form-data; name=\"file\";"
                            + " filename=\"config.json\"\r\n"
                            + "Content-Type: application/json\r\n\r\n{}\r\n--"
                            + boundary
                            + "--\r\n")));
    assertThat(imported.statusCode()).as(imported.body()).isEqualTo(422);

    // the same 404 for the owner's id as for an id nobody has
    HttpResponse<String> mine =
        send(req("GET", "/api/v1/pipelines/" + pipeline, intruder[1], null, null));
    HttpResponse<String> none =
        send(req("GET", "/api/v1/pipelines/" + UUID.randomUUID(), intruder[1], null, null));
    assertThat(mine.statusCode()).isEqualTo(none.statusCode());
    HttpResponse<String> steal =
        send(
            req(
                "POST",
                "/api/v1/models",
                intruder[1],
                "application/json",
                "{\"name\":\"stolen\",\"checkpointId\":\"" + checkpoint + "\"}"));
    assertThat(steal.statusCode()).isEqualTo(422);

    // nothing of the owner's changed
    assertThat(a.get("/api/v1/pipelines/" + pipeline).path("status").asText()).isEqualTo("RUNNING");
    assertThat(a.get("/api/v1/datasets/private").at("/versions/0/deletedAt").isNull()).isTrue();
    assertThat(a.get("/api/v1/models/" + model.path("id").asText()).path("label").asText())
        .isEqualTo("registered");
    assertThat(a.get("/api/v1/models").findValuesAsText("name")).containsExactly("crown");
    assertThat(a.get("/api/v1/teams/" + owner[0] + "/members").toString())
        .contains("owner@example.org");
    assertThat(client(token.path("token").asText()).get("/api/v1/me").path("team").asText())
        .isEqualTo(owner[0]);

    // and the intruder's lists show none of it
    ApiClient b = client(intruder[1]);
    String seen =
        b.get("/api/v1/pipelines").toString()
            + b.get("/api/v1/datasets")
            + b.get("/api/v1/models")
            + b.get("/api/v1/teams");
    assertThat(seen)
        .doesNotContain(pipeline.toString())
        .doesNotContain(model.path("id").asText())
        .doesNotContain(owner[0])
        .doesNotContain("secret-run");
  }
}

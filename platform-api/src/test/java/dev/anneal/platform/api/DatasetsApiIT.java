package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.datafiles.Hyparquet;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Datasets through the API: JSONL checked line by line, Parquet by column and row group, both
 * versioned; the same embedded stack as {@link ApiIT}.
 */
@EmbeddedStackTest
class DatasetsApiIT extends ApiTestSupport {

  @Test
  void datasetsAreCheckedLineByLineAndVersioned() throws Exception {
    String[] eps = team("eps");
    ApiClient api = client(eps[1]);
    String data = textDataset(20);
    JsonNode v1 = api.post("/api/v1/datasets/corpus", "application/x-ndjson", data, Map.of());
    assertThat(v1.path("version").asInt()).isEqualTo(1);
    assertThat(v1.path("records").asLong()).isEqualTo(20);
    assertThat(v1.path("format").asText()).isEqualTo("text");
    assertThat(v1.path("sha256").asText())
        .isEqualTo(dev.anneal.activities.store.ObjectStore.sha256(data.getBytes()));
    assertThat(v1.path("key").asText())
        .isEqualTo("teams/" + eps[0] + "/datasets/corpus/v1/data.jsonl");
    JsonNode v2 =
        api.post("/api/v1/datasets/corpus", "application/x-ndjson", data + data, Map.of());
    assertThat(v2.path("version").asInt()).isEqualTo(2);

    // multipart works too
    String boundary = "b0undary";
    String form =
        "--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.jsonl\"\r\n"
            + "Content-Type: application/x-ndjson\r\n\r\n"
            + data
            + "\r\n--"
            + boundary
            + "--\r\n";
    HttpResponse<String> multipart =
        send(
            req(
                "POST",
                "/api/v1/datasets/corpus",
                eps[1],
                "multipart/form-data; boundary=" + boundary,
                form));
    assertThat(multipart.statusCode()).as(multipart.body()).isEqualTo(201);
    assertThat(json(multipart).path("version").asInt()).isEqualTo(3);

    HttpResponse<String> bad =
        send(
            req(
                "POST",
                "/api/v1/datasets/corpus",
                eps[1],
                "application/x-ndjson",
                data + "{\"text\": \n"));
    assertThat(bad.statusCode()).isEqualTo(422);
    assertThat(json(bad).path("line").asInt()).isEqualTo(21);
    assertThat(json(bad).path("detail").asText()).startsWith("line 21: not JSON");
    HttpResponse<String> badName =
        send(req("POST", "/api/v1/datasets/..%2Fescape", eps[1], "application/x-ndjson", data));
    assertThat(badName.statusCode()).isIn(400, 404);
    assertThat(
            send(req("POST", "/api/v1/datasets/UPPER", eps[1], "application/x-ndjson", data))
                .statusCode())
        .isEqualTo(400);

    assertThat(api.get("/api/v1/datasets").path("datasets")).hasSize(1);
    assertThat(api.get("/api/v1/datasets/corpus").path("versions")).hasSize(3);
    assertThat(api.get("/api/v1/datasets/corpus/versions/2").path("records").asLong())
        .isEqualTo(40);
    api.delete("/api/v1/datasets/corpus");
    assertThat(api.get("/api/v1/datasets").path("datasets")).isEmpty();
    assertThat(send(req("DELETE", "/api/v1/datasets/corpus", eps[1], null, null)).statusCode())
        .isEqualTo(404);
  }

  @Test
  void parquetDatasetsAreCheckedByColumnAndRowGroup(@TempDir Path dir) throws Exception {
    String[] pq = team("pq");
    ApiClient api = client(pq[1]);
    List<String> chats = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      chats.add(
          "{\"id\":"
              + i
              + ",\"messages\":[{\"role\":\"user\",\"content\":\"What is "
              + i
              + "+1?\"},{\"role\":\"assistant\",\"content\":\""
              + (i + 1)
              + "\"}]}");
    }
    // written by npm's hyparquet-writer: ZSTD pages, row groups of 8 rows
    Path file = Hyparquet.write(dir, "chat", chats, "--codec", "ZSTD", "--row-group", "8");
    JsonNode v1 =
        api.postFile("/api/v1/datasets/dialogues", file, "application/vnd.apache.parquet");
    assertThat(v1.path("format").asText()).isEqualTo("chat");
    assertThat(v1.path("file").asText()).isEqualTo("parquet");
    assertThat(v1.path("records").asLong()).isEqualTo(30);
    assertThat(v1.path("bytes").asLong()).isEqualTo(Files.size(file));
    assertThat(v1.path("sha256").asText())
        .isEqualTo(dev.anneal.activities.store.ObjectStore.sha256(Files.readAllBytes(file)));
    assertThat(v1.path("key").asText())
        .isEqualTo("teams/" + pq[0] + "/datasets/dialogues/v1/data.parquet");
    // the type a client sends does not decide: the file's first bytes do
    JsonNode v2 = api.postFile("/api/v1/datasets/dialogues", file, "application/octet-stream");
    assertThat(v2.path("file").asText()).isEqualTo("parquet");
    assertThat(v2.path("version").asInt()).isEqualTo(2);

    // a missing column, a column of the wrong type, a bad row, a cut file: 422 saying where
    Path noMessages = Hyparquet.write(dir, "nomsg", chats, "--drop", "messages");
    JsonNode missing = refused(pq[1], noMessages, "?format=chat");
    assertThat(missing.path("column").asText()).isEqualTo("messages");
    assertThat(missing.path("detail").asText())
        .isEqualTo(
            "column 'messages' is missing: a chat dataset needs 'messages'; the file has columns"
                + " [id]");
    JsonNode mistyped =
        refused(
            pq[1],
            Hyparquet.write(dir, "ints", List.of("{\"text\":\"a\"}"), "--as-int", "text"),
            "");
    assertThat(mistyped.path("column").asText()).isEqualTo("text");
    assertThat(mistyped.path("detail").asText()).contains("is INT32, expected a string");
    List<String> gap = new ArrayList<>(chats.subList(0, 10));
    gap.set(9, "{\"id\":9}"); // no messages: the second row group's second row
    JsonNode badRow =
        refused(pq[1], Hyparquet.write(dir, "gap", gap, "--row-group", "8"), "?format=chat");
    assertThat(badRow.path("rowGroup").asInt()).isEqualTo(1);
    assertThat(badRow.path("row").asInt()).isEqualTo(1);
    assertThat(badRow.path("detail").asText()).startsWith("row group 1, row 1: ");
    byte[] whole = Files.readAllBytes(file);
    Path cut = Files.write(dir.resolve("cut.parquet"), Arrays.copyOf(whole, whole.length - 10));
    assertThat(refused(pq[1], cut, "").path("detail").asText())
        .startsWith("not a readable Parquet file (its footer)");
    // nothing of a refused upload is kept
    assertThat(api.get("/api/v1/datasets/dialogues").path("versions")).hasSize(2);
    assertThat(api.get("/api/v1/datasets").path("datasets")).hasSize(1);
  }

  private JsonNode refused(String token, Path file, String query) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/datasets/dialogues" + query))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/vnd.apache.parquet")
                .POST(HttpRequest.BodyPublishers.ofFile(file))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(json(r).path("type").asText()).endsWith("/invalid-dataset");
    return json(r);
  }
}

package dev.anneal.platform.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The Anneal REST API from Java: what the CLI speaks (and tests drive). Answers other than 2xx
 * become an {@link ApiError} carrying the server's problem detail.
 */
public final class ApiClient {
  public static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule());

  private final String server;
  private final String token;
  private final HttpClient http;

  public ApiClient(String server, String token) {
    this.server = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
  }

  public String server() {
    return server;
  }

  /** A non-2xx answer: its status and the problem's detail (and field, when given). */
  public static final class ApiError extends RuntimeException {
    public final int status;
    public final JsonNode problem;

    ApiError(int status, JsonNode problem, String fallback) {
      super(describe(status, problem, fallback));
      this.status = status;
      this.problem = problem;
    }

    private static String describe(int status, JsonNode p, String fallback) {
      if (p == null || !p.isObject()) return "HTTP " + status + ": " + fallback;
      String detail = p.path("detail").asText(p.path("title").asText("HTTP " + status));
      return detail + " (HTTP " + status + ")";
    }
  }

  /** The server could not be reached at all. */
  public static final class Unreachable extends RuntimeException {
    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static String query(Map<String, ?> params) {
    StringJoiner j = new StringJoiner("&", "?", "");
    j.setEmptyValue("");
    params.forEach(
        (k, v) -> {
          if (v != null) {
            j.add(k + "=" + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8));
          }
        });
    return j.toString();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server + path)).timeout(Duration.ofMinutes(10));
    if (token != null) b.header("Authorization", "Bearer " + token);
    return b;
  }

  public HttpResponse<String> raw(HttpRequest.Builder b) {
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new Unreachable(
          "cannot reach the Anneal server at "
              + server
              + " (is `anneal serve` running? choose another with --server)",
          e);
    } catch (IOException e) {
      throw new Unreachable("talking to " + server + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted", e);
    }
  }

  private JsonNode check(HttpResponse<String> r) {
    JsonNode body = null;
    try {
      body = r.body() == null || r.body().isEmpty() ? null : JSON.readTree(r.body());
    } catch (IOException e) {
      // not JSON
    }
    if (r.statusCode() / 100 != 2) {
      throw new ApiError(r.statusCode(), body, r.body());
    }
    return body;
  }

  public JsonNode get(String path) {
    return check(raw(request(path).GET()));
  }

  public JsonNode post(String path, String contentType, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        request(path)
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
    headers.forEach(b::header);
    return check(raw(b));
  }

  public JsonNode postJson(String path, Object body) {
    try {
      return post(path, "application/json", JSON.writeValueAsString(body), Map.of());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public JsonNode postFile(String path, Path file, String contentType) {
    try {
      return postBody(path, contentType, HttpRequest.BodyPublishers.ofFile(file));
    } catch (java.io.FileNotFoundException e) {
      throw new IllegalArgumentException("no such file: " + file, e);
    }
  }

  /** POSTs a body streamed from its publisher (a file, a multipart form of files). */
  public JsonNode postBody(String path, String contentType, HttpRequest.BodyPublisher body) {
    return check(raw(request(path).header("Content-Type", contentType).POST(body)));
  }

  public JsonNode patchJson(String path, Object body) {
    try {
      return check(
          raw(
              request(path)
                  .header("Content-Type", "application/json")
                  .method(
                      "PATCH",
                      HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public void delete(String path) {
    check(raw(request(path).DELETE()));
  }

  /** Downloads a (presigned) URL without the API token. */
  public InputStream download(String url) throws IOException, InterruptedException {
    HttpResponse<InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).GET().build(),
            HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      r.body().close();
      throw new IOException("GET " + url.replaceAll("\\?.*", "") + " answered " + r.statusCode());
    }
    return r.body();
  }

  /** One Server-Sent Event. */
  public record Sse(String id, String event, String data) {}

  /**
   * Follows an event stream until the server ends it or {@code onEvent} returns; reconnects with
   * {@code Last-Event-ID} when the connection drops.
   *
   * @return the id of the last event received
   */
  public String stream(String path, String lastEventId, Consumer<Sse> onEvent) {
    String last = lastEventId;
    int failures = 0;
    while (true) {
      HttpRequest.Builder b = request(path).header("Accept", "text/event-stream").GET();
      b.timeout(Duration.ofDays(1));
      if (last != null) b.header("Last-Event-ID", last);
      HttpResponse<Stream<String>> r;
      try {
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
      } catch (IOException e) {
        if (++failures > 5)
          throw new Unreachable("the event stream of " + server + " broke: " + e, e);
        sleep(1000L * failures);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return last;
      }
      if (r.statusCode() != 200) {
        String body = String.join("\n", r.body().toList());
        check(new SimpleResponse(r.statusCode(), body));
      }
      String id = null;
      String event = "message";
      StringBuilder data = new StringBuilder();
      boolean ended = false;
      try (Stream<String> lines = r.body()) {
        for (String line : (Iterable<String>) lines::iterator) {
          if (line.isEmpty()) {
            if (data.length() > 0 || !"message".equals(event)) {
              if (id != null) last = id;
              onEvent.accept(new Sse(id, event, data.toString()));
              if ("end".equals(event)) {
                ended = true;
                break;
              }
            }
            id = null;
            event = "message";
            data.setLength(0);
          } else if (line.startsWith("id:")) {
            id = line.substring(3).trim();
          } else if (line.startsWith("event:")) {
            event = line.substring(6).trim();
          } else if (line.startsWith("data:")) {
            if (data.length() > 0) data.append('\n');
            data.append(line.substring(5).stripLeading());
          }
        }
      } catch (RuntimeException e) {
        if (e.getCause() instanceof IOException && ++failures <= 5) {
          sleep(1000L * failures);
          continue;
        }
        throw e;
      }
      if (ended) return last;
      failures++;
      if (failures > 5) return last;
      sleep(500);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record SimpleResponse(int statusCode, String body) implements HttpResponse<String> {
    @Override
    public HttpRequest request() {
      return null;
    }

    @Override
    public java.util.Optional<HttpResponse<String>> previousResponse() {
      return java.util.Optional.empty();
    }

    @Override
    public java.net.http.HttpHeaders headers() {
      return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true);
    }

    @Override
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
      return java.util.Optional.empty();
    }

    @Override
    public URI uri() {
      return null;
    }

    @Override
    public HttpClient.Version version() {
      return HttpClient.Version.HTTP_1_1;
    }
  }
}

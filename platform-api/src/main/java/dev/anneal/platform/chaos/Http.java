package dev.anneal.platform.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The few calls the chaos benchmark makes to the platform's API, as a team's client would. */
final class Http {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Http() {}

  /** Whether the platform's HTTP server answers at all (a 503 while S3 is cut off counts). */
  static boolean healthy(String api) {
    try {
      CLIENT.send(
          HttpRequest.newBuilder(URI.create(api + "/actuator/health"))
              .timeout(Duration.ofSeconds(3))
              .build(),
          HttpResponse.BodyHandlers.discarding());
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Submits a pipeline spec; returns the response body (the pipeline as JSON). */
  static String submit(String api, String token, String yaml)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create(api + "/api/v1/pipelines"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/yaml")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(yaml))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IOException("submitting the pipeline: HTTP " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }
}

package dev.anneal.platform.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Whether a platform's HTTP server answers: the chaos benchmark's liveness probe. */
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
}

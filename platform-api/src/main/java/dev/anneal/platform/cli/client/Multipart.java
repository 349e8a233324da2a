package dev.anneal.platform.cli.client;

import java.io.FileNotFoundException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A {@code multipart/form-data} body of files, streamed from disk part by part (a model's shards
 * are never read into memory), each part named {@code field} with the file's name.
 */
final class Multipart {
  final String boundary = "anneal-" + UUID.randomUUID();

  String contentType() {
    return "multipart/form-data; boundary=" + boundary;
  }

  HttpRequest.BodyPublisher body(String field, List<Path> files) {
    List<HttpRequest.BodyPublisher> parts = new ArrayList<>();
    for (Path f : files) {
      String head =
          "--"
              + boundary
              + "\r\nContent-Disposition: form-data; name=\""
              + field
              + "\"; filename=\""
              + f.getFileName().toString().replace("\"", "")
              + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
      parts.add(HttpRequest.BodyPublishers.ofString(head, StandardCharsets.UTF_8));
      try {
        parts.add(HttpRequest.BodyPublishers.ofFile(f));
      } catch (FileNotFoundException e) {
        throw new IllegalArgumentException("no such file: " + f, e);
      }
      parts.add(HttpRequest.BodyPublishers.ofString("\r\n"));
    }
    parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n"));
    return HttpRequest.BodyPublishers.concat(parts.toArray(HttpRequest.BodyPublisher[]::new));
  }
}

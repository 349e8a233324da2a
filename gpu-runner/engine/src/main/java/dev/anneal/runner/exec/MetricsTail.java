package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the engine's metrics file as it grows: only whole lines (a line being written is read once
 * it ends), each one JSON object. A line that is not one is an error naming the file and line.
 */
final class MetricsTail {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private long offset;
  private long line;
  private final StringBuilder partial = new StringBuilder();

  MetricsTail(Path file) {
    this.file = file;
  }

  /** A metrics line that is not a JSON object. */
  static final class MalformedMetrics extends RuntimeException {
    MalformedMetrics(String message) {
      super(message);
    }
  }

  /** The lines completed since the last call. */
  List<JsonNode> poll() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.exists(file)) return out;
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      if (f.length() <= offset) return out;
      f.seek(offset);
      byte[] buf = new byte[(int) Math.min(f.length() - offset, 1 << 20)];
      f.readFully(buf);
      offset += buf.length;
      partial.append(new String(buf, StandardCharsets.UTF_8));
    }
    int nl;
    while ((nl = partial.indexOf("\n")) >= 0) {
      String text = partial.substring(0, nl).trim();
      partial.delete(0, nl + 1);
      line++;
      if (text.isEmpty()) continue;
      JsonNode n;
      try {
        n = JSON.readTree(text);
      } catch (IOException e) {
        n = null;
      }
      if (n == null || !n.isObject()) {
        throw new MalformedMetrics(
            file.getFileName()
                + " line "
                + line
                + " is not a JSON object: "
                + (text.length() > 80 ? text.substring(0, 80) + "…" : text));
      }
      out.add(n);
    }
    return out;
  }
}

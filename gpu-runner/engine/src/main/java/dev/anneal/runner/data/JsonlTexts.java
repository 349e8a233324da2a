package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code {"text": ...}} JSONL; a bad line is an error naming the source and line number. */
public final class JsonlTexts {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonlTexts() {}

  public static List<String> parse(String source, String content) {
    List<String> texts = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new StringReader(content))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new DataException(
              source + " line " + n + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
          throw new DataException(
              source + " line " + n + ": expected an object with a string field \"text\"");
        }
        texts.add(text.asText());
      }
    } catch (IOException e) {
      throw new DataException(source + ": " + e.getMessage());
    }
    if (texts.isEmpty()) {
      throw new DataException(source + ": no documents");
    }
    return texts;
  }

  /** Malformed or missing training data. */
  public static final class DataException extends RuntimeException {
    public DataException(String message) {
      super(message);
    }
  }
}

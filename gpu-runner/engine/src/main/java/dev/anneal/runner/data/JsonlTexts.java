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

  /**
   * Calls {@code each} with every non-blank line's JSON value and where it is ({@code "<source>
   * line <n>"}); a line that is not JSON is an error naming it.
   */
  /**
   * One record per non-blank line, made by {@code each} from the line's JSON (it throws a {@link
   * DataException} naming {@code where} on a bad one); none at all is an error: "{@code source}: no
   * {@code what}".
   */
  public static <T> java.util.List<T> records(
      String source,
      String content,
      String what,
      java.util.function.BiFunction<String, JsonNode, T> each) {
    java.util.List<T> out = new java.util.ArrayList<>();
    forEachLine(source, content, (where, node) -> out.add(each.apply(where, node)));
    if (out.isEmpty()) throw new DataException(source + ": no " + what);
    return out;
  }

  public static void forEachLine(
      String source, String content, java.util.function.BiConsumer<String, JsonNode> each) {
    try (BufferedReader r = new BufferedReader(new StringReader(content))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) continue;
        String where = source + " line " + n;
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new DataException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        each.accept(where, node);
      }
    } catch (IOException e) {
      throw new DataException(source + ": " + e.getMessage());
    }
  }

  public static List<String> parse(String source, String content) {
    List<String> texts = new ArrayList<>();
    forEachLine(
        source,
        content,
        (where, node) -> {
          JsonNode text = node.get("text");
          if (text == null || !text.isTextual()) {
            throw new DataException(where + ": expected an object with a string field \"text\"");
          }
          texts.add(text.asText());
        });
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

package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/**
 * Reads JSONL a line at a time, from a text or a stream (nothing holds the whole file), and the
 * records of any dataset ({@link Records}); a bad line is an error naming the source and line.
 */
public final class JsonlTexts {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonlTexts() {}

  /** Lines of a text. */
  public static BufferedReader reader(String content) {
    return new BufferedReader(new StringReader(content));
  }

  /** Lines of a UTF-8 stream (the caller closes it). */
  public static BufferedReader reader(InputStream in) {
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
  }

  /**
   * One record per non-blank line, made by {@code each} from the line's JSON (it throws a {@link
   * DataException} naming {@code where} on a bad one); none at all is an error: "{@code source}: no
   * {@code what}".
   */
  public static <T> List<T> records(
      String source, String content, String what, BiFunction<String, JsonNode, T> each) {
    return records(source, lines(source, reader(content)), what, each);
  }

  public static <T> List<T> records(
      String source, Records lines, String what, BiFunction<String, JsonNode, T> each) {
    List<T> out = new ArrayList<>();
    forEachLine(lines, (where, node) -> out.add(each.apply(where, node)));
    if (out.isEmpty()) throw new DataException(source + ": no " + what);
    return out;
  }

  /**
   * Calls {@code each} with every non-blank line's JSON value and where it is ({@code "<source>
   * line <n>"}); a line that is not JSON is an error naming it.
   */
  public static void forEachLine(String source, String content, BiConsumer<String, JsonNode> each) {
    forEachLine(lines(source, reader(content)), each);
  }

  public static void forEachLine(Records records, BiConsumer<String, JsonNode> each) {
    while (records.advance()) each.accept(records.where(), records.node());
  }

  /** The JSON of the non-blank lines, each where {@code "<source> line <n>"}. */
  public static Records lines(String source, BufferedReader lines) {
    return new Lines(source, lines);
  }

  /** Every document of a {@code {"text": …}} text. */
  public static List<String> parse(String source, String content) {
    List<String> texts = new ArrayList<>();
    texts(source, lines(source, reader(content))).forEachRemaining(texts::add);
    return texts;
  }

  /**
   * The documents of {@code {"text": …}} records, read as they are asked for (the caller closes
   * what they come from); a dataset without any is an error once it ends.
   */
  public static Iterator<String> texts(String source, Records it) {
    return new Iterator<>() {
      private String next;
      private long count;

      @Override
      public boolean hasNext() {
        if (next != null) return true;
        if (!it.advance()) {
          if (count == 0) throw new DataException(source + ": no documents");
          return false;
        }
        JsonNode text = it.node().get("text");
        if (text == null || !text.isTextual()) {
          throw new DataException(it.where() + ": expected an object with a string field \"text\"");
        }
        next = text.asText();
        count++;
        return true;
      }

      @Override
      public String next() {
        if (!hasNext()) throw new NoSuchElementException();
        String t = next;
        next = null;
        return t;
      }
    };
  }

  /** The non-blank lines' JSON, one at a time. */
  private static final class Lines implements Records {
    private final String source;
    private final BufferedReader reader;
    private long line;
    private JsonNode node;

    Lines(String source, BufferedReader reader) {
      this.source = source;
      this.reader = reader;
    }

    @Override
    public String where() {
      return source + " line " + line;
    }

    @Override
    public JsonNode node() {
      return node;
    }

    @Override
    public boolean advance() {
      try {
        String text;
        while ((text = reader.readLine()) != null) {
          line++;
          if (text.isBlank()) continue;
          try {
            node = JSON.readTree(text);
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DataException(where() + ": not valid JSON (" + e.getOriginalMessage() + ")");
          }
          return true;
        }
        return false;
      } catch (IOException e) {
        throw new DataException(source + ": " + e.getMessage());
      } catch (UncheckedIOException e) {
        throw new DataException(source + ": " + e.getCause().getMessage());
      }
    }
  }

  /** Malformed or missing training data. */
  public static final class DataException extends RuntimeException {
    public DataException(String message) {
      super(message);
    }
  }
}

package dev.anneal.platform.api.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Checks a JSONL dataset while it streams through: every line one JSON object of the same format,
 * in UTF-8. Computes the sha256, size and record count on the way. The first bad line stops it with
 * its line number and what was wrong.
 *
 * <p>Formats: {@code text} ({"text": …}, pre-training), {@code chat} ({"messages": [{role,
 * content}…]}, SFT), {@code preference} ({"prompt", "chosen", "rejected"}, texts or messages; or
 * whole conversations {"chosen", "rejected"}, reward model), {@code prompt} ({"prompt"} or
 * {"messages"} with an optional "answer", RLHF).
 */
public final class JsonlCheck {
  public static final Set<String> FORMATS = Set.of("text", "chat", "preference", "prompt");
  private static final int MAX_LINE = 16 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a good file held. */
  public record Result(String format, long records, long bytes, String sha256) {}

  /** The file is not a dataset; {@code line} is 1-based (0 when it concerns the whole file). */
  public static final class BadLine extends RuntimeException {
    public final long line;

    BadLine(long line, String message) {
      super(line > 0 ? "line " + line + ": " + message : message);
      this.line = line;
    }
  }

  private JsonlCheck() {}

  /**
   * Copies {@code in} to {@code out}, checking every line.
   *
   * @param format the expected format, or null to take the first line's
   */
  public static Result copy(InputStream in, OutputStream out, String format) throws IOException {
    if (format != null && !FORMATS.contains(format)) {
      throw new BadLine(
          0, "format must be one of text, chat, preference, prompt; got '" + format + "'");
    }
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 16];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    long bytes = 0;
    long lineNo = 0;
    long records = 0;
    String fmt = format;
    int n;
    while ((n = in.read(buf)) > 0) {
      sha.update(buf, 0, n);
      out.write(buf, 0, n);
      bytes += n;
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (buf[i] == '\n') {
          line.write(buf, start, i - start);
          lineNo++;
          String f = checkLine(line.toByteArray(), lineNo, fmt);
          if (f != null) {
            fmt = f;
            records++;
          }
          line.reset();
          start = i + 1;
        }
      }
      line.write(buf, start, n - start);
      if (line.size() > MAX_LINE) {
        throw new BadLine(lineNo + 1, "longer than " + MAX_LINE + " bytes (is this JSONL?)");
      }
    }
    if (line.size() > 0) {
      lineNo++;
      String f = checkLine(line.toByteArray(), lineNo, fmt);
      if (f != null) {
        fmt = f;
        records++;
      }
    }
    if (records == 0) throw new BadLine(0, "the file holds no records (it is empty)");
    return new Result(fmt, records, bytes, HexFormat.of().formatHex(sha.digest()));
  }

  /** The line's format, or null for a blank line. */
  static String checkLine(byte[] raw, long lineNo, String expected) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(raw))
              .toString();
    } catch (CharacterCodingException e) {
      throw new BadLine(lineNo, "not UTF-8 text");
    }
    if (text.endsWith("\r")) text = text.substring(0, text.length() - 1);
    if (text.isBlank()) return null;
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BadLine(
          lineNo,
          "not JSON (column "
              + e.getLocation().getColumnNr()
              + ": "
              + e.getOriginalMessage()
              + ")");
    }
    try {
      return recordFormat(node, expected);
    } catch (BadRecord e) {
      throw new BadLine(lineNo, e.getMessage());
    }
  }

  /** A record that is not one of a dataset's, wherever it is (a line, a Parquet row). */
  static final class BadRecord extends RuntimeException {
    BadRecord(String message) {
      super(message);
    }
  }

  /**
   * The record's format, checked against {@code expected} (null: any); a {@code prompt} dataset
   * takes chat records too.
   */
  static String recordFormat(JsonNode node, String expected) {
    if (node == null || !node.isObject()) {
      throw new BadRecord("each line must be a JSON object, got " + kind(node));
    }
    String f = formatOf(node);
    if (expected != null
        && !expected.equals(f)
        && !(expected.equals("prompt") && f.equals("chat"))) {
      throw new BadRecord(
          "a "
              + f
              + " record "
              + keys(node)
              + " in a "
              + expected
              + " dataset (the first record set the format; give format= to choose it)");
    }
    return expected != null && expected.equals("prompt") ? "prompt" : f;
  }

  private static String formatOf(JsonNode o) {
    if (o.has("chosen") || o.has("rejected")) {
      // texts, or messages: the conversation so far and each continuation, or (without a
      // prompt) two whole conversations
      boolean conversations = o.path("chosen").isArray() && o.path("rejected").isArray();
      if (!o.has("prompt") && !conversations) {
        throw new BadRecord(
            "a preference record needs 'prompt' (without one, 'chosen' and 'rejected' are whole"
                + " conversations: arrays of messages)");
      }
      for (String k : List.of("prompt", "chosen", "rejected")) {
        JsonNode v = o.get(k);
        if (v == null && k.equals("prompt")) continue;
        if (v == null || !(v.isTextual() || v.isArray())) {
          throw new BadRecord("a preference record needs '" + k + "', a text or messages");
        }
        if (v.isArray()) messages(v, k);
        if (v.isArray()
            && !k.equals("prompt")
            && !v.get(v.size() - 1).path("role").asText().equals("assistant")) {
          throw new BadRecord(
              "'" + k + "' must end with an assistant message (the reply that is scored)");
        }
      }
      return "preference";
    }
    if (o.has("messages")) {
      messages(o.get("messages"), "messages");
      return "chat";
    }
    if (o.has("text")) {
      if (!o.get("text").isTextual()) throw new BadRecord("'text' must be a string");
      return "text";
    }
    if (o.has("prompt")) {
      if (!o.get("prompt").isTextual()) throw new BadRecord("'prompt' must be a string");
      return "prompt";
    }
    throw new BadRecord(
        "no known record shape "
            + keys(o)
            + ": expected 'text', 'messages', 'prompt' or 'prompt'+'chosen'+'rejected'");
  }

  private static void messages(JsonNode m, String field) {
    if (!m.isArray() || m.isEmpty()) {
      throw new BadRecord("'" + field + "' must be a non-empty array");
    }
    for (int i = 0; i < m.size(); i++) {
      JsonNode msg = m.get(i);
      if (!msg.path("role").isTextual() || !msg.path("content").isTextual()) {
        throw new BadRecord(field + "[" + i + "] needs text 'role' and 'content'");
      }
    }
  }

  private static String keys(JsonNode o) {
    List<String> k = new ArrayList<>();
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) k.add(it.next());
    return "with keys " + k;
  }

  private static String kind(JsonNode n) {
    return n == null ? "nothing" : n.getNodeType().name().toLowerCase();
  }
}

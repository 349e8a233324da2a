package dev.anneal.protocol;

/** A protocol document could not be read; the message names the field and what was wrong. */
public class ProtocolException extends RuntimeException {
  private final String path;

  public ProtocolException(String path, String problem, Throwable cause) {
    super((path.isEmpty() ? "" : path + ": ") + problem, cause);
    this.path = path;
  }

  /** A document that is not even {@code format} (JSON, YAML): where the parser stopped, and why. */
  public static ProtocolException malformed(
      String format, com.fasterxml.jackson.core.JsonProcessingException e) {
    String where =
        e.getLocation() == null
            ? ""
            : " at line "
                + e.getLocation().getLineNr()
                + ", column "
                + e.getLocation().getColumnNr();
    return new ProtocolException(
        "", "malformed " + format + where + ": " + e.getOriginalMessage(), e);
  }

  /** The JSON path of the offending field, such as {@code training.lr}; empty for the root. */
  public String path() {
    return path;
  }
}

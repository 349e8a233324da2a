package dev.anneal.protocol;

/** A protocol document could not be read; the message names the field and what was wrong. */
public class ProtocolException extends RuntimeException {
  private final String path;

  public ProtocolException(String path, String problem, Throwable cause) {
    super((path.isEmpty() ? "" : path + ": ") + problem, cause);
    this.path = path;
  }

  /** The JSON path of the offending field, such as {@code training.lr}; empty for the root. */
  public String path() {
    return path;
  }
}

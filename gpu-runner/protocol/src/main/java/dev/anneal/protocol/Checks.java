package dev.anneal.protocol;

/**
 * Argument checks for record constructors (the protocol's and the pipeline spec's); messages name
 * the field, and the JSON reader adds the path.
 */
public final class Checks {
  private Checks() {}

  public static <T> T present(String field, T value) {
    if (value == null) {
      throw new IllegalArgumentException(field + ": is required");
    }
    return value;
  }

  public static String text(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + ": is required and must not be blank");
    }
    return value;
  }

  public static long positive(String field, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + ": must be > 0, got " + value);
    }
    return value;
  }

  public static long nonNegative(String field, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(field + ": must be >= 0, got " + value);
    }
    return value;
  }

  public static double positive(String field, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(field + ": must be > 0, got " + value);
    }
    return value;
  }

  public static double range(String field, double value, double lo, double hi) {
    if (!(value >= lo && value <= hi)) {
      throw new IllegalArgumentException(
          field + ": must be in [" + lo + ", " + hi + "], got " + value);
    }
    return value;
  }

  public static <T> T orDefault(T value, T fallback) {
    return value != null ? value : fallback;
  }
}

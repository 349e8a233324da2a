package dev.anneal.workflows.api.spec;

/** Messages start with the field name; the parser prefixes the path ("stages[2].gate: …"). */
final class SpecChecks {
  private SpecChecks() {}

  static <T> T present(String field, T value) {
    if (value == null) {
      throw new IllegalArgumentException(field + ": is required");
    }
    return value;
  }

  static String text(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + ": is required and must not be blank");
    }
    return value;
  }

  static int atLeast(String field, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(field + ": must be >= " + min + ", got " + value);
    }
    return value;
  }

  static <T> T orDefault(T value, T fallback) {
    return value != null ? value : fallback;
  }
}

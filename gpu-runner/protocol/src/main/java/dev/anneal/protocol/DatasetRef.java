package dev.anneal.protocol;

/** One input dataset: an object key in the platform bucket, its sha256, and a mixture weight. */
public record DatasetRef(String name, String key, String sha256, Double weight, String format) {
  public DatasetRef {
    Checks.text("name", name);
    Checks.text("key", key);
    weight = Checks.orDefault(weight, 1.0);
    format = Checks.orDefault(format, "text");
    Checks.positive("weight", weight);
    if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("sha256: must be 64 lower-case hex digits");
    }
  }
}

package dev.anneal.protocol;

/** A committed checkpoint, named by the object key of its manifest. */
public record CheckpointRef(String manifestKey, Long step) {
  public CheckpointRef {
    Checks.text("manifestKey", manifestKey);
    if (!manifestKey.endsWith("/" + ObjectKeys.MANIFEST)) {
      throw new IllegalArgumentException(
          "manifestKey: must end with /" + ObjectKeys.MANIFEST + ", got '" + manifestKey + "'");
    }
    if (step != null) Checks.nonNegative("step", step);
  }
}

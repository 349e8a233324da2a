package dev.anneal.protocol;

/**
 * A committed checkpoint, named by the object key of its manifest; or, as a starting point only, a
 * Hugging Face LLaMA directory in the store, {@code hf:<prefix>/}.
 */
public record CheckpointRef(String manifestKey, Long step) {
  public CheckpointRef {
    Checks.text("manifestKey", manifestKey);
    if (!manifestKey.endsWith("/" + ObjectKeys.MANIFEST) && !manifestKey.startsWith("hf:")) {
      throw new IllegalArgumentException(
          "manifestKey: must end with /"
              + ObjectKeys.MANIFEST
              + " (or name a Hugging Face directory, hf:<prefix>/), got '"
              + manifestKey
              + "'");
    }
    if (step != null) Checks.nonNegative("step", step);
  }
}

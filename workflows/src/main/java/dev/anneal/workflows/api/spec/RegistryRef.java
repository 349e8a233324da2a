package dev.anneal.workflows.api.spec;

import java.util.Optional;

/**
 * A spec's reference to something a team registered: {@code dataset:<name>[@v<n>]} or {@code
 * model:<name>[@v<n>]}. Parsed once, here; a missing version means "the current one" (the newest
 * dataset, the production model), which submission pins.
 */
public record RegistryRef(Kind kind, String name, Integer version) {

  public enum Kind {
    DATASET("dataset:"),
    MODEL("model:");

    private final String prefix;

    Kind(String prefix) {
      this.prefix = prefix;
    }

    public String prefix() {
      return prefix;
    }
  }

  public RegistryRef {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(kind.prefix() + " needs a name");
    }
    if (version != null && version < 1) {
      throw new IllegalArgumentException("versions start at 1, not " + version);
    }
  }

  /**
   * The reference in {@code text}, or empty when {@code text} names something else (a {@code
   * synthetic:} source, an {@code hf:} folder, a stage).
   *
   * @throws IllegalArgumentException when the version after {@code @v} is not a number
   */
  public static Optional<RegistryRef> parse(Kind kind, String text) {
    if (text == null || !text.startsWith(kind.prefix())) return Optional.empty();
    String ref = text.substring(kind.prefix().length());
    int at = ref.lastIndexOf("@v");
    if (at < 0) return Optional.of(new RegistryRef(kind, ref, null));
    try {
      return Optional.of(
          new RegistryRef(kind, ref.substring(0, at), Integer.valueOf(ref.substring(at + 2))));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the version in '" + text + "' is not a number");
    }
  }

  /** {@code name} or {@code name@vN}, as people write it. */
  public String display() {
    return version == null ? name : name + "@v" + version;
  }

  @Override
  public String toString() {
    return kind.prefix() + display();
  }
}

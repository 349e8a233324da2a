package dev.anneal.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The four stages of the LLM recipe, in pipeline order. */
public enum StageKind {
  PRETRAIN("pretrain"),
  SFT("sft"),
  REWARD("reward"),
  RLHF("rlhf");

  private final String id;

  StageKind(String id) {
    this.id = id;
  }

  /** The lower-case name used in specs, object keys and URLs. */
  @JsonValue
  public String id() {
    return id;
  }

  @JsonCreator
  public static StageKind fromId(String id) {
    for (StageKind kind : values()) {
      if (kind.id.equals(id.toLowerCase(Locale.ROOT))) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "unknown stage '"
            + id
            + "' (expected one of "
            + Arrays.stream(values()).map(StageKind::id).collect(Collectors.joining(", "))
            + ")");
  }
}

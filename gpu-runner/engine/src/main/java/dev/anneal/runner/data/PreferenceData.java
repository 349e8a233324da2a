package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Preference datasets for the reward model, JSONL: {@code {"prompt": "…", "chosen": "…",
 * "rejected": "…"}} a line — a prompt, the response people preferred and the one they did not.
 */
public final class PreferenceData {

  public record Preference(String prompt, String chosen, String rejected) {}

  private PreferenceData() {}

  public static List<Preference> parse(String what, String jsonl) {
    return JsonlTexts.records(what, jsonl, "preference pairs", PreferenceData::pair);
  }

  /** One line: {@code {"prompt", "chosen", "rejected"}}, each a text. */
  private static Preference pair(String where, JsonNode n) {
    for (String f : List.of("prompt", "chosen", "rejected")) {
      if (!n.hasNonNull(f) || !n.get(f).isTextual()) {
        throw new JsonlTexts.DataException(where + ": needs a text field \"" + f + "\"");
      }
    }
    return new Preference(
        n.get("prompt").asText(), n.get("chosen").asText(), n.get("rejected").asText());
  }
}

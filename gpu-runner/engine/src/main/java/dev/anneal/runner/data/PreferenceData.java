package dev.anneal.runner.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Preference datasets for the reward model, JSONL: {@code {"prompt": "…", "chosen": "…",
 * "rejected": "…"}} a line — a prompt, the response people preferred and the one they did not.
 */
public final class PreferenceData {

  public record Preference(String prompt, String chosen, String rejected) {}

  private PreferenceData() {}

  public static List<Preference> parse(String what, String jsonl) {
    List<Preference> out = new ArrayList<>();
    JsonlTexts.forEachLine(
        what,
        jsonl,
        (where, n) -> {
          for (String f : List.of("prompt", "chosen", "rejected")) {
            if (!n.hasNonNull(f) || !n.get(f).isTextual()) {
              throw new JsonlTexts.DataException(where + ": needs a text field \"" + f + "\"");
            }
          }
          out.add(
              new Preference(
                  n.get("prompt").asText(), n.get("chosen").asText(), n.get("rejected").asText()));
        });
    if (out.isEmpty()) throw new JsonlTexts.DataException(what + ": no preference pairs");
    return out;
  }
}

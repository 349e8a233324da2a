package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * Preference datasets for the reward model, JSONL: {@code {"prompt": "…", "chosen": "…",
 * "rejected": "…"}} a line — a prompt, the response people preferred and the one they did not.
 */
public final class PreferenceData {

  public record Preference(String prompt, String chosen, String rejected) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private PreferenceData() {}

  public static List<Preference> parse(String what, String jsonl) {
    List<Preference> out = new ArrayList<>();
    String[] lines = jsonl.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) continue;
      String where = what + " line " + (i + 1);
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (java.io.IOException e) {
        throw new JsonlTexts.DataException(where + ": not JSON (" + e.getMessage() + ")");
      }
      for (String f : List.of("prompt", "chosen", "rejected")) {
        if (!n.hasNonNull(f) || !n.get(f).isTextual()) {
          throw new JsonlTexts.DataException(where + ": needs a text field \"" + f + "\"");
        }
      }
      out.add(
          new Preference(
              n.get("prompt").asText(), n.get("chosen").asText(), n.get("rejected").asText()));
    }
    if (out.isEmpty()) throw new JsonlTexts.DataException(what + ": no preference pairs");
    return out;
  }
}

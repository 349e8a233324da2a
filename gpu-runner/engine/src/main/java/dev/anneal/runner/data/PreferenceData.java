package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.runner.data.ChatTemplate.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * Preference datasets for the reward model, JSONL, a pair a line — the response people preferred
 * and the one they did not — in any of the shapes the Hub's preference datasets use:
 *
 * <ul>
 *   <li>{@code {"prompt": "…", "chosen": "…", "rejected": "…"}}: texts, a user's prompt and two
 *       replies;
 *   <li>{@code {"prompt": [messages], "chosen": [messages], "rejected": [messages]}}: the
 *       conversation so far and each continuation (a text continuation is one assistant message);
 *   <li>{@code {"chosen": [messages], "rejected": [messages]}}: two whole conversations, the prompt
 *       what they share.
 * </ul>
 *
 * Each side must end with an assistant message: that reply is what the reward model scores.
 */
public final class PreferenceData {

  /** The two conversations, each ending with the reply that is scored. */
  public record Preference(List<Message> chosen, List<Message> rejected) {
    public Preference {
      chosen = List.copyOf(chosen);
      rejected = List.copyOf(rejected);
    }

    /** A user's prompt and the two replies to it. */
    public Preference(String prompt, String chosen, String rejected) {
      this(
          List.of(new Message("user", prompt), new Message("assistant", chosen)),
          List.of(new Message("user", prompt), new Message("assistant", rejected)));
    }
  }

  private PreferenceData() {}

  public static List<Preference> parse(String what, String jsonl) {
    return JsonlTexts.records(what, jsonl, "preference pairs", PreferenceData::pair);
  }

  /** The pairs of a dataset's records, read one at a time. */
  public static List<Preference> parse(String what, Records lines) {
    return JsonlTexts.records(what, lines, "preference pairs", PreferenceData::pair);
  }

  private static Preference pair(String where, JsonNode n) {
    for (String f : List.of("chosen", "rejected")) {
      if (!n.hasNonNull(f)) {
        throw new JsonlTexts.DataException(
            where + ": needs a field \"" + f + "\" (a text or messages)");
      }
    }
    List<Message> prompt = new ArrayList<>();
    JsonNode p = n.get("prompt");
    if (p == null || p.isNull()) {
      if (!n.get("chosen").isArray() || !n.get("rejected").isArray()) {
        throw new JsonlTexts.DataException(
            where
                + ": needs a field \"prompt\" (without one, \"chosen\" and \"rejected\" are whole"
                + " conversations: arrays of messages)");
      }
    } else if (p.isTextual()) {
      prompt.add(new Message("user", p.asText()));
    } else if (p.isArray()) {
      prompt.addAll(messages(p, where + ": prompt"));
    } else {
      throw new JsonlTexts.DataException(where + ": \"prompt\" must be a text or messages");
    }
    return new Preference(
        side(prompt, n.get("chosen"), where + ": chosen"),
        side(prompt, n.get("rejected"), where + ": rejected"));
  }

  private static List<Message> side(List<Message> prompt, JsonNode n, String where) {
    List<Message> d = new ArrayList<>(prompt);
    if (n.isTextual()) d.add(new Message("assistant", n.asText()));
    else if (n.isArray()) d.addAll(messages(n, where));
    else throw new JsonlTexts.DataException(where + ": must be a text or messages");
    if (!d.get(d.size() - 1).role().equals("assistant")) {
      throw new JsonlTexts.DataException(
          where + ": must end with an assistant message (the reply that is scored)");
    }
    return d;
  }

  private static List<Message> messages(JsonNode a, String where) {
    if (a.isEmpty()) throw new JsonlTexts.DataException(where + ": an empty list of messages");
    List<Message> out = new ArrayList<>();
    for (int k = 0; k < a.size(); k++) out.add(ChatData.message(a.get(k), where + "[" + k + "]"));
    return out;
  }
}

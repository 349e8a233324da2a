package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.runner.data.ChatTemplate.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompt datasets for RLHF, JSONL with one of two shapes per line: {@code {"prompt": "…"}} (one
 * user turn) or {@code {"messages": [...]}} ending with a user turn. An optional {@code "answer"}
 * is the reference reply: held-out prompts that have one measure exact-match accuracy, so a reward
 * that rises while accuracy falls can be seen (reward hacking).
 */
public final class PromptData {

  /** A dialogue for the policy to continue, and the reference answer if any. */
  public record Prompt(List<Message> messages, String answer) {
    public Prompt {
      messages = List.copyOf(messages);
    }

    /** The dialogue with the reference answer as the assistant's turn (for exact match). */
    public List<Message> withAnswer() {
      List<Message> d = new ArrayList<>(messages);
      d.add(new Message("assistant", answer));
      return d;
    }
  }

  private PromptData() {}

  public static List<Prompt> parse(String what, String jsonl) {
    return JsonlTexts.records(what, jsonl, "prompts", PromptData::prompt);
  }

  /** The records of JSONL lines, read one at a time. */
  public static List<Prompt> parse(String what, Records lines) {
    return JsonlTexts.records(what, lines, "prompts", PromptData::prompt);
  }

  /** One line: a {@code "prompt"} text or a {@code "messages"} array, and an optional answer. */
  private static Prompt prompt(String where, JsonNode n) {
    List<Message> messages = new ArrayList<>();
    if (n.hasNonNull("prompt")) {
      if (!n.get("prompt").isTextual()) {
        throw new JsonlTexts.DataException(where + ": \"prompt\" must be text");
      }
      messages.add(new Message("user", n.get("prompt").asText()));
    } else if (n.has("messages")) {
      JsonNode ms = n.get("messages");
      if (!ms.isArray() || ms.isEmpty()) {
        throw new JsonlTexts.DataException(where + ": messages must be a non-empty array");
      }
      for (int k = 0; k < ms.size(); k++) {
        JsonNode m = ms.get(k);
        if (!m.isObject() || !m.hasNonNull("role") || !m.hasNonNull("content")) {
          throw new JsonlTexts.DataException(
              where + ": messages[" + k + "]: needs \"role\" and \"content\"");
        }
        try {
          messages.add(new Message(m.get("role").asText(), m.get("content").asText()));
        } catch (IllegalArgumentException e) {
          throw new JsonlTexts.DataException(where + ": messages[" + k + "]." + e.getMessage());
        }
      }
      if (!messages.get(messages.size() - 1).role().equals("user")) {
        throw new JsonlTexts.DataException(
            where + ": the last message must be the user's (the policy answers it)");
      }
    } else {
      throw new JsonlTexts.DataException(
          where + ": expected a \"prompt\" text or a \"messages\" array");
    }
    JsonNode a = n.get("answer");
    if (a != null && !a.isNull() && !a.isTextual()) {
      throw new JsonlTexts.DataException(where + ": \"answer\" must be text");
    }
    return new Prompt(messages, a == null || a.isNull() ? null : a.asText());
  }
}

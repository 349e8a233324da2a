package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.runner.data.ChatTemplate.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * Chat datasets, JSONL with one of two shapes per line:
 *
 * <ul>
 *   <li>{@code {"messages": [{"role": "user", "content": "…"}, {"role": "assistant", …}, …]}} — one
 *       dialogue;
 *   <li>{@code {"tree": {"role": "user", "content": "…", "replies": [{…, "replies": […]}, …]}}} — a
 *       conversation tree (a thread whose messages have several replies, as in online discussions),
 *       expanded into one dialogue per path from the root to a leaf.
 * </ul>
 *
 * A dialogue must contain an assistant message (else it teaches nothing). Errors name the line and
 * the field.
 */
public final class ChatData {

  private ChatData() {}

  public static List<List<Message>> parse(String what, String jsonl) {
    return parse(what, JsonlTexts.lines(what, JsonlTexts.reader(jsonl)));
  }

  /** The dialogues of a dataset's records, read one at a time. */
  public static List<List<Message>> parse(String what, Records lines) {
    List<List<Message>> out = new ArrayList<>();
    JsonlTexts.forEachLine(
        lines,
        (where, n) -> {
          if (n.has("messages")) {
            List<Message> d = new ArrayList<>();
            JsonNode ms = n.get("messages");
            if (!ms.isArray() || ms.isEmpty()) {
              throw new JsonlTexts.DataException(where + ": messages must be a non-empty array");
            }
            for (int k = 0; k < ms.size(); k++) {
              d.add(message(ms.get(k), where + ": messages[" + k + "]"));
            }
            out.add(checked(d, where));
          } else if (n.has("tree")) {
            List<List<Message>> paths = new ArrayList<>();
            expand(n.get("tree"), new ArrayList<>(), paths, where + ": tree");
            for (List<Message> p : paths) out.add(checked(p, where));
          } else {
            throw new JsonlTexts.DataException(
                where + ": expected a \"messages\" array or a \"tree\" object");
          }
        });
    if (out.isEmpty()) throw new JsonlTexts.DataException(what + ": no dialogues");
    return out;
  }

  private static void expand(
      JsonNode node, List<Message> path, List<List<Message>> out, String where) {
    List<Message> here = new ArrayList<>(path);
    here.add(message(node, where));
    JsonNode replies = node.get("replies");
    if (replies == null || replies.isEmpty()) {
      out.add(here);
      return;
    }
    if (!replies.isArray())
      throw new JsonlTexts.DataException(where + ".replies: must be an array");
    for (int i = 0; i < replies.size(); i++) {
      expand(replies.get(i), here, out, where + ".replies[" + i + "]");
    }
  }

  static Message message(JsonNode n, String where) {
    if (!n.isObject() || !n.hasNonNull("role") || !n.hasNonNull("content")) {
      throw new JsonlTexts.DataException(where + ": needs \"role\" and \"content\"");
    }
    try {
      return new Message(n.get("role").asText(), n.get("content").asText());
    } catch (IllegalArgumentException e) {
      throw new JsonlTexts.DataException(where + "." + e.getMessage());
    }
  }

  private static List<Message> checked(List<Message> d, String where) {
    if (d.stream().noneMatch(m -> m.role().equals("assistant"))) {
      throw new JsonlTexts.DataException(where + ": a dialogue without an assistant message");
    }
    return d;
  }
}

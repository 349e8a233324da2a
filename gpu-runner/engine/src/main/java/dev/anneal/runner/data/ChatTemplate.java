package dev.anneal.runner.data;

import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.List;
import java.util.Set;

/**
 * How a dialogue becomes tokens for the model, and which of them it learns: the assistant's replies
 * and the token that closes each (so the model learns to stop), never the roles' markup or anyone
 * else's words. Two kinds, chosen by the tokenizer: Anneal's own format ({@link
 * AnnealChatTemplate}) for the engine's tokenizers, and the Jinja {@code chat_template} of an
 * imported tokenizer's {@code tokenizer_config.json} ({@link JinjaChatTemplate}), rendered as
 * transformers renders it.
 */
public abstract class ChatTemplate {

  public static final List<String> ROLES = List.of("system", "user", "assistant");

  /** One message of a dialogue. */
  public record Message(String role, String content) {
    public Message {
      if (!ROLES.contains(role)) {
        throw new IllegalArgumentException(
            "role: must be one of " + ROLES + ", got '" + role + "'");
      }
      if (content == null) throw new IllegalArgumentException("content: missing");
    }
  }

  /** Token ids and, per id, whether it is a training target (1) or context only (0). */
  public record Rendered(int[] ids, boolean[] target) {}

  /** The template {@code tok} renders dialogues with. */
  public static ChatTemplate of(Tokenizer tok) {
    return tok.configJson().isPresent()
        ? new JinjaChatTemplate(tok, tok.configJson().get())
        : new AnnealChatTemplate(tok);
  }

  /**
   * The training examples of a dialogue: one, with every assistant reply a target, unless the
   * template renders earlier turns differently once the conversation goes on (Qwen3 drops their
   * reasoning); then one per reply, in the context the model sees when it writes that reply.
   */
  public abstract List<Rendered> examples(List<Message> dialogue);

  /** The whole dialogue's ids, as the template renders it. */
  public abstract int[] ids(List<Message> dialogue);

  /** The dialogue so far and the start of an assistant reply: what the model continues. */
  public abstract int[] prompt(List<Message> context);

  /** The tokens a generated reply ends with. */
  public abstract Set<Integer> stops();

  /** A generated reply's text: without its stop token or the markup the template opens it with. */
  public abstract String answer(int[] generated);
}

package dev.anneal.runner.data;

import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a dialogue for the model: every message as {@code <|role|>content<|end|>}, the roles
 * {@code system}, {@code user} and {@code assistant} each with their own special token. For SFT the
 * loss counts the assistant's tokens only: its content and the {@code <|end|>} that closes it (so
 * the model learns to stop), never the role tokens or anyone else's words. A generation prompt ends
 * with {@code <|assistant|>}. The same template, as a Jinja string, goes into the exported {@code
 * tokenizer_config.json}.
 */
public final class ChatTemplate {

  public static final List<String> ROLES = List.of("system", "user", "assistant");
  public static final String END = "<|end|>";

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

  /** Jinja for Hugging Face's {@code apply_chat_template}; renders exactly what this class does. */
  public static final String JINJA =
      "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '<|end|>' }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

  private final Tokenizer tok;
  private final int end;

  public ChatTemplate(Tokenizer tok) {
    for (String r : ROLES) requireToken(tok, token(r));
    requireToken(tok, END);
    this.tok = tok;
    this.end = tok.id(END);
  }

  private static void requireToken(Tokenizer tok, String special) {
    if (tok.specialTokens().contains(special)) return;
    if (tok.configJson().isPresent()) {
      throw new IllegalArgumentException(
          "tokenizer: an imported tokenizer has no "
              + special
              + " for Anneal's chat template, and rendering its own tokenizer_config.json"
              + " chat_template is not implemented yet; SFT, reward and RLHF stages from this"
              + " model are refused (pre-training runs)");
    }
    throw new IllegalArgumentException(
        "tokenizer: has no special token "
            + special
            + " for the chat template; pre-train with the default tokenizer.specialTokens (they"
            + " include the chat tokens) or add it");
  }

  public static String token(String role) {
    return "<|" + role + "|>";
  }

  public int endToken() {
    return end;
  }

  public Rendered render(List<Message> dialogue) {
    List<Integer> ids = new ArrayList<>();
    List<Boolean> target = new ArrayList<>();
    for (Message m : dialogue) {
      ids.add(tok.id(token(m.role())));
      target.add(false);
      boolean learn = m.role().equals("assistant");
      for (int id : tok.encode(m.content())) {
        ids.add(id);
        target.add(learn);
      }
      ids.add(end);
      target.add(learn);
    }
    int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
    boolean[] t = new boolean[a.length];
    for (int i = 0; i < t.length; i++) t[i] = target.get(i);
    return new Rendered(a, t);
  }

  /** The dialogue so far, then {@code <|assistant|>}: what the model continues. */
  public int[] prompt(List<Message> context) {
    int[] body = render(context).ids();
    int[] out = java.util.Arrays.copyOf(body, body.length + 1);
    out[body.length] = tok.id(token("assistant"));
    return out;
  }
}

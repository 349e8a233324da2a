package dev.anneal.runner.data;

import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Anneal's own chat format, for the engine's tokenizers: every message as {@code
 * <|role|>content<|end|>}, the roles {@code system}, {@code user} and {@code assistant} each with
 * their own special token; a generation prompt ends with {@code <|assistant|>}. The same template,
 * as a Jinja string, goes into the exported {@code tokenizer_config.json}.
 */
public final class AnnealChatTemplate extends ChatTemplate {

  public static final String END = "<|end|>";

  /** Jinja for Hugging Face's {@code apply_chat_template}; renders exactly what this class does. */
  public static final String JINJA =
      "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '<|end|>' }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

  private final Tokenizer tok;
  private final int end;

  AnnealChatTemplate(Tokenizer tok) {
    for (String r : ROLES) requireToken(tok, token(r));
    requireToken(tok, END);
    this.tok = tok;
    this.end = tok.id(END);
  }

  private static void requireToken(Tokenizer tok, String special) {
    if (tok.specialTokens().contains(special)) return;
    throw new IllegalArgumentException(
        "tokenizer: has no special token "
            + special
            + " for the chat template; pre-train with the default tokenizer.specialTokens (they"
            + " include the chat tokens) or add it");
  }

  public static String token(String role) {
    return "<|" + role + "|>";
  }

  /** The dialogue as one sequence, the assistant's content and its {@code <|end|>} targets. */
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

  @Override
  public List<Rendered> examples(List<Message> dialogue) {
    return List.of(render(dialogue));
  }

  @Override
  public int[] ids(List<Message> dialogue) {
    return render(dialogue).ids();
  }

  @Override
  public int[] prompt(List<Message> context) {
    int[] body = render(context).ids();
    int[] out = Arrays.copyOf(body, body.length + 1);
    out[body.length] = tok.id(token("assistant"));
    return out;
  }

  @Override
  public Set<Integer> stops() {
    return Set.of(end);
  }

  @Override
  public String answer(int[] generated) {
    int n = generated.length;
    if (n > 0 && generated[n - 1] == end) n--;
    return tok.decode(Arrays.copyOf(generated, n)).replace(END, "");
  }
}

package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.runner.jinja.Jinja;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An imported tokenizer's own {@code chat_template} (from its {@code tokenizer_config.json}),
 * rendered as transformers' {@code apply_chat_template} renders it: the special tokens ({@code
 * bos_token}, {@code eos_token}, …) and {@code add_generation_prompt} in its context, the text
 * encoded without the tokenizer's post-processor (the template writes the BOS itself, so it is
 * never doubled).
 *
 * <p>No template says which of its characters are the assistant's, so they are found by rendering
 * the conversation prefix by prefix: a reply starts where the conversation before it, rendered with
 * the generation prompt, ends, and runs to the first special token the template writes after a
 * reply (found once, by rendering a probe reply: Qwen's {@code <|im_end|>}, Llama 3's {@code
 * <|eot_id|>}). That token is a target, so the model learns to stop; it and the tokenizer's EOS end
 * generation. Each stretch of context or reply is encoded on its own, as the prompt is at
 * inference.
 */
final class JinjaChatTemplate extends ChatTemplate {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> SPECIAL_KEYS =
      List.of(
          "bos_token",
          "eos_token",
          "unk_token",
          "sep_token",
          "pad_token",
          "cls_token",
          "mask_token");
  private static final String PROBE_QUESTION = "Which reply does the template write?";
  private static final String PROBE_REPLY = "This one, between its markup.";

  private final Tokenizer tok;
  private final Jinja jinja;
  private final Map<String, Object> specials = new LinkedHashMap<>();
  private final String replyPrefix;
  private final String endText;
  private final Set<Integer> stops = new LinkedHashSet<>();

  JinjaChatTemplate(Tokenizer tok, String configJson) {
    this.tok = tok;
    JsonNode config;
    try {
      config = JSON.readTree(configJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokenizer_config.json: not JSON: " + e.getMessage(), e);
    }
    try {
      this.jinja = Jinja.compile(source(config.path("chat_template")));
    } catch (Jinja.TemplateException e) {
      throw new IllegalArgumentException(
          "tokenizer_config.json: chat_template: " + e.getMessage(), e);
    }
    for (String k : SPECIAL_KEYS) {
      JsonNode v = config.path(k);
      String s =
          v.isTextual()
              ? v.asText()
              : v.path("content").isTextual() ? v.get("content").asText() : null;
      if (s != null) specials.put(k, s);
    }

    // the markup around a reply, from a probe rendered with and without it
    String asked = render(List.of(new Message("user", PROBE_QUESTION)), true);
    String answered =
        render(
            List.of(new Message("user", PROBE_QUESTION), new Message("assistant", PROBE_REPLY)),
            false);
    if (!answered.startsWith(asked)) {
      throw new IllegalArgumentException(
          "tokenizer_config.json: chat_template: a reply is not rendered after the generation"
              + " prompt (the prompt renders as "
              + quote(asked)
              + ", the answered dialogue as "
              + quote(answered)
              + "), so the assistant's tokens cannot be found for the loss");
    }
    String reply = answered.substring(asked.length());
    int at = reply.indexOf(PROBE_REPLY);
    if (at < 0) {
      throw new IllegalArgumentException(
          "tokenizer_config.json: chat_template: does not write an assistant message's content");
    }
    this.replyPrefix = reply.substring(0, at);
    Map<Integer, String> specialIds = new HashMap<>();
    for (String s : tok.specialTokens()) specialIds.put(tok.id(s), s);
    String close = null;
    for (int id : tok.encode(reply.substring(at + PROBE_REPLY.length()))) {
      if (specialIds.containsKey(id)) {
        close = specialIds.get(id);
        break;
      }
    }
    if (close == null) {
      throw new IllegalArgumentException(
          "tokenizer_config.json: chat_template: writes no special token after a reply ("
              + quote(reply)
              + "), so a model trained on it would not learn to stop");
    }
    this.endText = close;
    stops.add(tok.id(close));
    Object eos = specials.get("eos_token");
    if (eos != null && tok.specialTokens().contains((String) eos)) stops.add(tok.id((String) eos));
  }

  /** The template's text: a string, or the one named {@code default} of a list of templates. */
  private static String source(JsonNode t) {
    if (t.isTextual()) return t.asText();
    if (t.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode n : t) {
        if (n.path("name").asText().equals("default") && n.path("template").isTextual()) {
          return n.get("template").asText();
        }
        names.add(n.path("name").asText());
      }
      throw new IllegalArgumentException(
          "tokenizer_config.json: chat_template is a list without a 'default' template " + names);
    }
    throw new IllegalArgumentException(
        "tokenizer_config.json: has no chat_template; SFT, reward and RLHF stages render"
            + " dialogues with it (a base model's tokenizer often has none: import the tokenizer"
            + " files of the model's instruct version, or continue pre-training)");
  }

  private String render(List<Message> dialogue, boolean generationPrompt) {
    Map<String, Object> ctx = new HashMap<>(specials);
    List<Object> messages = new ArrayList<>();
    for (Message m : dialogue) {
      Map<String, Object> msg = new LinkedHashMap<>();
      msg.put("role", m.role());
      msg.put("content", m.content());
      messages.add(msg);
    }
    ctx.put("messages", messages);
    ctx.put("add_generation_prompt", generationPrompt);
    try {
      return jinja.render(ctx);
    } catch (Jinja.TemplateException e) {
      throw new IllegalArgumentException("chat_template: " + e.getMessage(), e);
    }
  }

  /** A reply's rendering within {@code text}, from {@code start}: up to its closing token. */
  private record Span(int start, int end) {}

  private Span reply(String text, int start) {
    int k = text.indexOf(endText, start);
    return new Span(start, k < 0 ? text.length() : k + endText.length());
  }

  @Override
  public List<Rendered> examples(List<Message> dialogue) {
    String full = render(dialogue, false);
    List<Span> inFull = new ArrayList<>();
    List<String> turnTexts = new ArrayList<>();
    List<Span> turnSpans = new ArrayList<>();
    boolean consistent = true;
    for (int i = 0; i < dialogue.size(); i++) {
      if (!dialogue.get(i).role().equals("assistant")) continue;
      String with = render(dialogue.subList(0, i + 1), false);
      Span s = replyOf(dialogue, i, with);
      String upTo = with.substring(0, s.end());
      turnTexts.add(upTo);
      turnSpans.add(s);
      // the conversation goes on from this reply as the reply was rendered when it was the last
      if (full.startsWith(upTo)) inFull.add(s);
      else consistent = false;
    }
    if (turnSpans.isEmpty()) return List.of(encode(full, List.of()));
    if (consistent) {
      // the text after the last reply (a next generation prompt, a newline) teaches nothing
      return List.of(encode(full.substring(0, inFull.get(inFull.size() - 1).end()), inFull));
    }
    List<Rendered> out = new ArrayList<>();
    for (int k = 0; k < turnTexts.size(); k++) {
      out.add(encode(turnTexts.get(k), List.of(turnSpans.get(k))));
    }
    return out;
  }

  /** Where message {@code i}, an assistant reply, is within {@code with}, its rendering. */
  private Span replyOf(List<Message> dialogue, int i, String with) {
    String before = render(dialogue.subList(0, i), true);
    if (!with.startsWith(before)) {
      throw new IllegalArgumentException(
          "chat_template: message "
              + i
              + " (an assistant reply) is not rendered after the generation prompt, so its"
              + " tokens cannot be found for the loss");
    }
    return reply(with, before.length());
  }

  /** {@code text}'s ids, the {@code replies}' stretches targets; each stretch encoded alone. */
  private Rendered encode(String text, List<Span> replies) {
    List<int[]> pieces = new ArrayList<>();
    List<Boolean> learn = new ArrayList<>();
    int at = 0;
    for (Span s : replies) {
      if (s.start() > at) {
        pieces.add(tok.encode(text.substring(at, s.start())));
        learn.add(false);
      }
      pieces.add(tok.encode(text.substring(s.start(), s.end())));
      learn.add(true);
      at = s.end();
    }
    if (at < text.length()) {
      pieces.add(tok.encode(text.substring(at)));
      learn.add(false);
    }
    int n = pieces.stream().mapToInt(p -> p.length).sum();
    int[] ids = new int[n];
    boolean[] target = new boolean[n];
    int k = 0;
    for (int p = 0; p < pieces.size(); p++) {
      for (int id : pieces.get(p)) {
        ids[k] = id;
        target[k++] = learn.get(p);
      }
    }
    return new Rendered(ids, target);
  }

  /** A dialogue ending in a reply ends with the reply's closing token, as a rollout does. */
  @Override
  public int[] ids(List<Message> dialogue) {
    String text = render(dialogue, false);
    int last = dialogue.size() - 1;
    if (last < 0 || !dialogue.get(last).role().equals("assistant")) return tok.encode(text);
    Span s = replyOf(dialogue, last, text);
    return encode(text.substring(0, s.end()), List.of(s)).ids();
  }

  @Override
  public int[] prompt(List<Message> context) {
    return tok.encode(render(context, true));
  }

  @Override
  public Set<Integer> stops() {
    return stops;
  }

  @Override
  public String answer(int[] generated) {
    int n = generated.length;
    while (n > 0 && stops.contains(generated[n - 1])) n--;
    String text = tok.decode(Arrays.copyOf(generated, n));
    return text.startsWith(replyPrefix) ? text.substring(replyPrefix.length()) : text;
  }

  private static String quote(String s) {
    String shown = s.length() > 200 ? "…" + s.substring(s.length() - 200) : s;
    return "'" + shown.replace("\n", "\\n") + "'";
  }
}

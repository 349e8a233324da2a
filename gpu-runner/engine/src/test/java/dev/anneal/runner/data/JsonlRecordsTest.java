package dev.anneal.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompt and preference files: one record per line, and errors that say which line. */
class JsonlRecordsTest {

  @Test
  void promptsAreATextOrMessagesWithAnOptionalAnswer() {
    List<PromptData.Prompt> p =
        PromptData.parse(
            "prompts.jsonl",
            """
            {"prompt": "2+2?", "answer": "4"}

            {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}
            """);
    assertThat(p).hasSize(2);
    assertThat(p.get(0).answer()).isEqualTo("4");
    assertThat(p.get(1).messages()).hasSize(2);
    assertThat(p.get(1).answer()).isNull();
    assertThatThrownBy(() -> PromptData.parse("prompts.jsonl", "{\"prompt\": 3}"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage("prompts.jsonl line 1: \"prompt\" must be text");
    assertThatThrownBy(() -> PromptData.parse("prompts.jsonl", "\n\n"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage("prompts.jsonl: no prompts");
  }

  @Test
  void preferencePairsNeedThreeTexts() {
    List<PreferenceData.Preference> p =
        PreferenceData.parse(
            "prefs.jsonl", "{\"prompt\": \"q\", \"chosen\": \"good\", \"rejected\": \"bad\"}\n");
    assertThat(p).containsExactly(new PreferenceData.Preference("q", "good", "bad"));
    assertThatThrownBy(
            () ->
                PreferenceData.parse(
                    "prefs.jsonl",
                    "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n{\"prompt\": \"q\"}"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage("prefs.jsonl line 2: needs a text field \"chosen\"");
    assertThatThrownBy(() -> PreferenceData.parse("prefs.jsonl", ""))
        .hasMessage("prefs.jsonl: no preference pairs");
  }
}

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
  void preferencePairsAreTextsOrConversations() {
    List<PreferenceData.Preference> p =
        PreferenceData.parse(
            "prefs.jsonl",
            String.join(
                "\n",
                "{\"prompt\": \"q\", \"chosen\": \"good\", \"rejected\": \"bad\"}",
                // the conversation so far, then each continuation
                "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be kind.\"},"
                    + " {\"role\": \"user\", \"content\": \"q\"}],"
                    + " \"chosen\": [{\"role\": \"assistant\", \"content\": \"good\"}],"
                    + " \"rejected\": \"bad\"}",
                // two whole conversations (the prompt is what they share)
                "{\"chosen\": [{\"role\": \"user\", \"content\": \"q\"},"
                    + " {\"role\": \"assistant\", \"content\": \"good\"}],"
                    + " \"rejected\": [{\"role\": \"user\", \"content\": \"q\"},"
                    + " {\"role\": \"assistant\", \"content\": \"bad\"}]}"));
    PreferenceData.Preference texts = new PreferenceData.Preference("q", "good", "bad");
    assertThat(p.get(0)).isEqualTo(texts);
    ChatTemplate.Message system = new ChatTemplate.Message("system", "Be kind.");
    assertThat(p.get(1).chosen())
        .containsExactly(system, texts.chosen().get(0), texts.chosen().get(1));
    assertThat(p.get(1).rejected()).hasSize(3).endsWith(texts.rejected().get(1));
    assertThat(p.get(2)).isEqualTo(texts);

    assertThatThrownBy(
            () ->
                PreferenceData.parse(
                    "prefs.jsonl",
                    "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n{\"prompt\": \"q\"}"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage("prefs.jsonl line 2: needs a field \"chosen\" (a text or messages)");
    assertThatThrownBy(
            () -> PreferenceData.parse("prefs.jsonl", "{\"chosen\": \"a\", \"rejected\": \"b\"}"))
        .hasMessageContaining("line 1: needs a field \"prompt\"");
    assertThatThrownBy(
            () ->
                PreferenceData.parse(
                    "prefs.jsonl",
                    "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": [{\"role\": \"user\","
                        + " \"content\": \"b\"}]}"))
        .hasMessage(
            "prefs.jsonl line 1: rejected: must end with an assistant message (the reply that is"
                + " scored)");
    assertThatThrownBy(
            () ->
                PreferenceData.parse(
                    "prefs.jsonl",
                    "{\"prompt\": \"q\", \"chosen\": [{\"role\": \"bot\", \"content\": \"a\"}],"
                        + " \"rejected\": \"b\"}"))
        .hasMessageContaining("line 1: chosen[0].role: must be one of");
    assertThatThrownBy(() -> PreferenceData.parse("prefs.jsonl", ""))
        .hasMessage("prefs.jsonl: no preference pairs");
  }
}

package dev.anneal.runner.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.StageRuns;
import dev.anneal.runner.data.ChatData;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.ChatTemplate.Message;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SftBatches;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Supervised fine-tuning: the chat template, the loss mask, conversation trees, and learning. */
class SftTest {

  @TempDir Path dir;

  private static final BpeTokenizer TOK =
      BpeTrainer.train(
          List.of("What is 3 + 4? 7 The capital of Norland is Velmar."),
          300,
          false,
          TokenizerSpec.DEFAULT_SPECIALS);

  private static final List<Message> DIALOGUE =
      List.of(
          new Message("system", "Be brief."),
          new Message("user", "What is 3 + 4?"),
          new Message("assistant", "7"));

  @Test
  void onlyTheAssistantsTokensAndItsEndAreTargets() {
    ChatTemplate t = ChatTemplate.of(TOK);
    List<ChatTemplate.Rendered> all = t.examples(DIALOGUE);
    assertThat(all).hasSize(1);
    ChatTemplate.Rendered r = all.get(0);
    StringBuilder targets = new StringBuilder();
    for (int i = 0; i < r.ids().length; i++) {
      if (r.target()[i]) targets.append(TOK.decode(new int[] {r.ids()[i]}));
    }
    assertThat(targets.toString()).isEqualTo("7<|end|>");
    assertThat(TOK.decode(r.ids()))
        .isEqualTo("<|system|>Be brief.<|end|><|user|>What is 3 + 4?<|end|><|assistant|>7<|end|>");
    assertThat(TOK.decode(t.prompt(DIALOGUE.subList(0, 2))))
        .endsWith("What is 3 + 4?<|end|><|assistant|>");
  }

  @Test
  void promptTokensGetZeroGradient() {
    ChatTemplate t = ChatTemplate.of(TOK);
    List<List<Message>> two = List.of(DIALOGUE, DIALOGUE);
    SftBatches batches = new SftBatches(two, t, TOK.id("<|pad|>"), 1, 0.5);
    int seqLen = 64;
    Sampler.Batch b = batches.batch(0, 0, 1, seqLen);
    try (NDManager m = NDManager.newBaseManager()) {
      long[] targets = new long[seqLen];
      for (int i = 0; i < seqLen; i++) targets[i] = b.tokens()[i + 1];
      NDArray logits = m.randomNormal(new Shape(1, seqLen, TOK.vocabSize()));
      logits.setRequiresGradient(true);
      NDArray weights = m.create(b.weights(), new Shape(1, seqLen));
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        gc.backward(
            Transformer.crossEntropy(logits, m.create(targets, new Shape(1, seqLen)), weights));
      }
      NDArray perPosition = logits.getGradient().abs().sum(new int[] {2});
      float[] g = perPosition.toFloatArray();
      int learned = 0;
      for (int i = 0; i < seqLen; i++) {
        boolean assistantTarget = b.weights()[i] > 0;
        if (assistantTarget) {
          learned++;
          assertThat(g[i]).as("position %d predicts an assistant token", i).isGreaterThan(0f);
        } else {
          assertThat(g[i]).as("position %d predicts a prompt token or a pad", i).isZero();
        }
      }
      assertThat(learned).isEqualTo(2); // "7" and <|end|>
    }
  }

  @Test
  void packedDialoguesAttendOnlyToThemselvesAndKeepTheirTargets() {
    ChatTemplate t = ChatTemplate.of(TOK);
    List<List<Message>> dialogues = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      dialogues.add(
          List.of(
              new Message("user", "What is " + i + " + 4?"),
              new Message("assistant", Integer.toString(i + 4))));
    }
    int seqLen = 63;
    SftBatches packed = new SftBatches(dialogues, t, TOK.id("<|pad|>"), 3, 0.5, true);
    Sampler.Batch b = packed.batch(0, 0, 1, seqLen);
    int segmentsInRow = b.segments()[seqLen - 1] + 1;
    assertThat(segmentsInRow).as("dialogues sharing a 64-token row").isGreaterThanOrEqualTo(3);
    // each dialogue keeps its answer and <|end|> as targets; nothing predicts across a boundary
    int[] perSegment = new int[segmentsInRow];
    for (int i = 0; i < seqLen; i++) {
      if (b.weights()[i] > 0) perSegment[b.segments()[i]]++;
      if (i + 1 < seqLen && b.segments()[i + 1] != b.segments()[i]) {
        assertThat(b.weights()[i]).as("position %d ends a dialogue", i).isZero();
      }
    }
    for (int k = 0; k < segmentsInRow - 1; k++) {
      assertThat(perSegment[k]).as("targets of dialogue %d", k).isGreaterThanOrEqualTo(2);
    }
    // the first dialogue's logits are the same packed or alone (the mask isolates it; rotary
    // positions are relative)
    ModelShape shape = ModelShape.of(ModelConfig.preset("micro"));
    Transformer model = new Transformer(shape);
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.init(shape, m, 4, DataType.FLOAT32);
      long[] row = new long[seqLen];
      for (int i = 0; i < seqLen; i++) row[i] = b.tokens()[i];
      NDArray all =
          model.logits(
              p,
              Host.longs(m, row, new Shape(1, seqLen)),
              Transformer.segmentMask(m, 1, seqLen, b.segments(), DataType.FLOAT32));
      // the second dialogue of the row, alone from position 0
      int start = 0;
      while (b.segments()[start] == 0) start++;
      int end = start;
      while (end < seqLen && b.segments()[end] == 1) end++;
      long[] alone = java.util.Arrays.copyOfRange(row, start, end);
      NDArray single =
          model.logits(
              p,
              Host.longs(m, alone, new Shape(1, alone.length)),
              Transformer.mask(m, 1, alone.length, null, DataType.FLOAT32));
      float[] a =
          all.get(new ai.djl.ndarray.index.NDIndex("0, {}:{}, :", start, end)).toFloatArray();
      float[] c = single.toFloatArray();
      assertThat(a.length).isEqualTo(c.length);
      for (int i = 0; i < a.length; i++) {
        assertThat(a[i])
            .as("logit %d", i)
            .isCloseTo(c[i], org.assertj.core.data.Offset.offset(1e-4f));
      }
    }
  }

  @Test
  void aConversationTreeBecomesOneDialoguePerPathToALeaf() {
    String jsonl =
        """
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
        {"tree": {"role": "user", "content": "Which river?", "replies": [
          {"role": "assistant", "content": "The Calun.", "replies": [
            {"role": "user", "content": "Sure?", "replies": [{"role": "assistant", "content": "Yes."}]},
            {"role": "user", "content": "Where?", "replies": [{"role": "assistant", "content": "Estria."}]}]},
          {"role": "assistant", "content": "I do not know."}]}}
        """
            .replace("\n  ", " ")
            .replace("\n]", "]");
    List<String> lines = new ArrayList<>();
    for (String l : jsonl.split("\n")) if (!l.isBlank()) lines.add(l);
    // the tree is one JSONL line
    String oneLineTree =
        String.join("\n", lines.get(0), String.join(" ", lines.subList(1, lines.size())));
    List<List<Message>> d = ChatData.parse("chats", oneLineTree);
    assertThat(d).hasSize(4);
    assertThat(d.get(1))
        .extracting(Message::content)
        .containsExactly("Which river?", "The Calun.", "Sure?", "Yes.");
    assertThat(d.get(2))
        .extracting(Message::content)
        .containsExactly("Which river?", "The Calun.", "Where?", "Estria.");
    assertThat(d.get(3))
        .extracting(Message::content)
        .containsExactly("Which river?", "I do not know.");

    assertThatThrownBy(
            () ->
                ChatData.parse(
                    "chats", "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage(
            "chats line 1: messages[0].role: must be one of [system, user, assistant], got 'bot'");
    assertThatThrownBy(
            () ->
                ChatData.parse(
                    "chats", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}"))
        .hasMessage("chats line 1: a dialogue without an assistant message");
    assertThatThrownBy(() -> ChatData.parse("chats", "\n{\"text\": \"x\"}"))
        .hasMessage("chats line 2: expected a \"messages\" array or a \"tree\" object");
  }

  @Test
  void sftTeachesAPretrainedModelToAnswerInTheChatFormat() {
    ObjectStoreTarget store = new ObjectStoreTarget("file:" + dir, "local", null);
    ModelConfig tiny = ModelConfig.preset("tiny");
    RunSpec pretrain =
        StageRuns.spec(
            StageKind.PRETRAIN,
            tiny,
            TrainingConfig.builder()
                .steps(300L)
                .batchSize(16)
                .seqLen(48)
                .gradAccum(1)
                .lr(3e-3)
                .warmupFraction(0.05)
                .minLrRatio(0.1)
                .build(),
            List.of(
                new DatasetRef("arithmetic", "synthetic:arithmetic?docs=400", null, 1.0, null),
                new DatasetRef("dialogue", "synthetic:dialogue?docs=400", null, 1.0, null)),
            null,
            store,
            null);
    Map<String, Double> pre = StageRuns.finish(pretrain);
    assertThat(pre.get("eval_loss")).isLessThan(2.0);

    String base =
        dev.anneal.protocol.ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 300, 1);
    RunSpec sft =
        StageRuns.spec(
            StageKind.SFT,
            tiny,
            TrainingConfig.builder()
                .steps(250L)
                .batchSize(16)
                .seqLen(24)
                .gradAccum(1)
                .lr(1e-3)
                .warmupFraction(0.05)
                .minLrRatio(0.1)
                .build(),
            List.of(new DatasetRef("chat", "synthetic:chat?docs=600", null, 1.0, null)),
            // the pre-trained model as the Hugging Face directory its stage exported
            new CheckpointRef("hf:" + base.replace("manifest.json", "hf/"), null),
            store,
            null);
    Map<String, Double> after = StageRuns.finish(sft);
    assertThat(after.get("exact_match_before")).as("summary %s", after).isLessThan(0.2);
    assertThat(after.get("exact_match"))
        .as("summary %s", after)
        .isGreaterThan(after.get("exact_match_before") + 0.4);
  }
}

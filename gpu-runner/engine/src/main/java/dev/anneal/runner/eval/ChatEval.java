package dev.anneal.runner.eval;

import ai.djl.ndarray.NDManager;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.ChatTemplate.Message;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact match on held-out chat questions: each dialogue's last assistant turn is the expected
 * answer; the model continues the dialogue before it (rendered through the chat template, ending
 * with {@code <|assistant|>}) greedily, with the KV-cache generator, until {@code <|end|>}; the
 * answer counts when it equals the expected one after trimming.
 */
public final class ChatEval {

  public record Result(double exactMatch, int questions, List<String> answers) {}

  private ChatEval() {}

  public static Result exactMatch(
      Transformer model,
      Params params,
      NDManager manager,
      Tokenizer tok,
      ChatTemplate template,
      List<List<Message>> heldOut,
      int maxQuestions,
      int maxNewTokens) {
    List<int[]> prompts = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (List<Message> d : heldOut) {
      if (prompts.size() >= maxQuestions) break;
      int last = -1;
      for (int i = 0; i < d.size(); i++) if (d.get(i).role().equals("assistant")) last = i;
      if (last < 0) continue;
      prompts.add(template.prompt(d.subList(0, last)));
      expected.add(d.get(last).content().strip());
    }
    if (prompts.isEmpty()) return new Result(Double.NaN, 0, List.of());
    int pad = tok.id(tok.specialTokens().get(0));
    Generator g = new Generator(model, pad, tok.vocabSize());
    List<String> answers = new ArrayList<>();
    int correct = 0;
    int chunk = 32;
    for (int from = 0; from < prompts.size(); from += chunk) {
      List<int[]> part = prompts.subList(from, Math.min(prompts.size(), from + chunk));
      Generator.Output out =
          g.generate(
              params, manager, part, Generator.Sampling.greedy(maxNewTokens, template.stops()));
      for (int[] t : out.tokens()) {
        answers.add(template.answer(t).strip());
      }
    }
    for (int i = 0; i < answers.size(); i++) {
      if (answers.get(i).equals(expected.get(i))) correct++;
    }
    return new Result((double) correct / answers.size(), answers.size(), answers);
  }
}

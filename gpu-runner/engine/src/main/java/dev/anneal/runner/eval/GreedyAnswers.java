package dev.anneal.runner.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Exact-match accuracy of greedy answers: each prompt is continued token by token with the most
 * likely next token until a newline or {@code maxTokens}, and the continuation, trimmed, must equal
 * the expected answer. (Full forward passes; the KV-cache generator is the hybrid engine's.)
 */
public final class GreedyAnswers {

  public record Result(double accuracy, List<String> answers) {}

  private GreedyAnswers() {}

  public static Result evaluate(
      Transformer model,
      Params params,
      Tokenizer tok,
      List<String> prompts,
      List<String> expected,
      int maxTokens) {
    List<String> answers = new ArrayList<>();
    int correct = 0;
    for (int i = 0; i < prompts.size(); i++) {
      String answer = complete(model, params, tok, prompts.get(i), maxTokens);
      answers.add(answer);
      if (answer.trim().equals(expected.get(i).trim())) correct++;
    }
    return new Result((double) correct / prompts.size(), answers);
  }

  public static String complete(
      Transformer model, Params params, Tokenizer tok, String prompt, int maxTokens) {
    int[] ids = tok.encode(prompt);
    List<Integer> out = new ArrayList<>();
    try (NDManager m = params.manager().newSubManager()) {
      int[] seq = ids;
      for (int k = 0; k < maxTokens; k++) {
        long[] x = Arrays.stream(seq).asLongStream().toArray();
        NDArray tokens = dev.anneal.runner.model.Host.longs(m, x, new Shape(1, x.length));
        NDArray mask = Transformer.mask(m, 1, x.length, null, DataType.FLOAT32);
        NDArray logits = model.logits(params, tokens, mask);
        // only ids the tokenizer knows (the embedding may have more rows)
        int next = (int) logits.get(new NDIndex("0, -1, :{}", tok.vocabSize())).argMax().getLong();
        String piece = tok.decode(new int[] {next});
        if (piece.contains("\n")) break;
        out.add(next);
        seq = Arrays.copyOf(seq, seq.length + 1);
        seq[seq.length - 1] = next;
      }
    }
    return tok.decode(out.stream().mapToInt(Integer::intValue).toArray());
  }
}

package dev.anneal.runner.rlhf;

import ai.djl.ndarray.NDManager;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.PromptData.Prompt;
import dev.anneal.runner.eval.ChatEval;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A policy's held-out figures: one sampled response per held-out prompt (a fixed seed, so two
 * policies are compared on the same draws) scored by the reward model, with its KL to the
 * reference; and greedy exact match on the prompts that have reference answers.
 */
record PolicyEval(
    Transformer model,
    Tokenizer tokenizer,
    List<Prompt> heldOut,
    Rollouts rollouts,
    RolloutScoring scoring,
    Params reference,
    Params rewardModel,
    int maxNewTokens,
    long seed) {

  static final int EVAL_PROMPTS = 64;

  PolicyEval {
    heldOut = List.copyOf(heldOut);
  }

  int heldOutCount() {
    return heldOut.size();
  }

  PolicyFigures evaluate(Params policy, NDManager parent) {
    List<Prompt> eval = heldOut.subList(0, Math.min(EVAL_PROMPTS, heldOut.size()));
    if (eval.isEmpty()) {
      return new PolicyFigures(Double.NaN, Double.NaN, Double.NaN, Double.NaN, List.of());
    }
    try (NDManager m = parent.newSubManager()) {
      List<int[]> ids = eval.stream().map(rollouts::promptIds).toList();
      Generator.Output out = rollouts.generate(policy, m, ids, seed ^ 0xE7A1L);
      Rollout r = rollouts.rollout(ids, out);
      float[] lp = scoring.logProbs(policy, m, r).toFloatArray();
      float[] ref = scoring.logProbs(reference, m, r).toFloatArray();
      double kl = 0;
      for (int k = 0; k < lp.length; k++) if (r.mask()[k] > 0) kl += lp[k] - ref[k];
      float[] sc = scoring.rewards(rewardModel, m, r);
      double reward = Advantages.mean(sc);
      List<String> samples = new ArrayList<>();
      for (int i = 0; i < Math.min(3, eval.size()); i++) {
        samples.add(
            String.format(
                "%s -> %s (%.2f)",
                eval.get(i).messages().get(eval.get(i).messages().size() - 1).content(),
                rollouts.template().answer(out.tokens().get(i)),
                sc[i]));
      }
      List<List<ChatTemplate.Message>> answered =
          eval.stream().filter(p -> p.answer() != null).map(Prompt::withAnswer).toList();
      double exact = Double.NaN;
      if (!answered.isEmpty()) {
        ChatEval.Result greedy =
            ChatEval.exactMatch(
                model,
                policy,
                m,
                tokenizer,
                rollouts.template(),
                answered,
                answered.size(),
                maxNewTokens);
        exact = greedy.exactMatch();
        // the first wrong greedy answers: what the policy gets wrong, next to what it samples
        for (int i = 0, shown = 0; i < greedy.answers().size() && shown < 3; i++) {
          List<ChatTemplate.Message> d = answered.get(i);
          String expected = d.get(d.size() - 1).content().strip();
          if (!greedy.answers().get(i).equals(expected)) {
            samples.add(
                String.format(
                    "wrong: %s -> %s (expected %s)",
                    d.get(d.size() - 2).content(), greedy.answers().get(i), expected));
            shown++;
          }
        }
      }
      return new PolicyFigures(reward, kl / r.rows(), exact, r.meanResponseLength(), samples);
    }
  }
}

package dev.anneal.runner.rlhf;

import ai.djl.ndarray.NDManager;
import dev.anneal.protocol.RlConfig;
import dev.anneal.runner.data.AnnealChatTemplate;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.PromptData.Prompt;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Where rollouts come from: each step's prompts (a seeded permutation of the prompt set per pass,
 * so the cursor is a function of the data index), their chat-template ids cut to leave room for the
 * response, and one sampled response per prompt from the policy's own parameters in inference mode
 * (KV cache, no autograd, no copy of the weights).
 */
record Rollouts(
    RlConfig rl,
    int batchSize,
    int seqLen,
    long seed,
    List<Prompt> prompts,
    ChatTemplate template,
    Generator generator,
    Set<Integer> stops,
    int pad) {

  Rollouts {
    prompts = List.copyOf(prompts);
  }

  /** The rollouts of {@code model}'s policies, on this tokenizer's chat template. */
  static Rollouts of(
      Transformer model,
      Tokenizer tokenizer,
      List<Prompt> prompts,
      RlConfig rl,
      int batchSize,
      int seqLen,
      long seed) {
    ChatTemplate template = ChatTemplate.of(tokenizer);
    int pad =
        tokenizer.specialTokens().contains("<|pad|>")
            ? tokenizer.id("<|pad|>")
            : tokenizer.id(tokenizer.specialTokens().get(0));
    return new Rollouts(
        rl,
        batchSize,
        seqLen,
        seed,
        prompts,
        template,
        new Generator(model, pad, tokenizer.vocabSize()),
        stops(template, tokenizer),
        pad);
  }

  /**
   * The template's stops; with Anneal's own, also the tokenizer's first special token (its end of
   * text). An imported template's stops hold the tokenizer's EOS already.
   */
  private static Set<Integer> stops(ChatTemplate template, Tokenizer tokenizer) {
    Set<Integer> stops = new java.util.LinkedHashSet<>(template.stops());
    if (template instanceof AnnealChatTemplate) {
      stops.add(tokenizer.id(tokenizer.specialTokens().get(0)));
    }
    return stops;
  }

  int promptCount() {
    return prompts.size();
  }

  /** The prompts of a data batch: a seeded permutation of the prompts per pass. */
  List<Prompt> promptsFor(long dataIndex) {
    int n = prompts.size();
    List<Prompt> out = new ArrayList<>(batchSize);
    for (int i = 0; i < batchSize; i++) {
      long k = dataIndex * batchSize + i;
      long pass = k / n;
      int[] order = permutation(n, seed ^ (pass * 0x9E3779B97F4A7C15L));
      out.add(prompts.get(order[(int) (k % n)]));
    }
    return out;
  }

  private static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = i;
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** A prompt's ids, its oldest tokens cut so that a whole response still fits. */
  int[] promptIds(Prompt p) {
    int[] ids = template.prompt(p.messages());
    int room = seqLen - rl.maxNewTokens();
    return ids.length <= room ? ids : Arrays.copyOfRange(ids, ids.length - room, ids.length);
  }

  /** One sampled response per prompt, drawn with {@code sampleSeed}. */
  Generator.Output generate(Params policy, NDManager m, List<int[]> ids, long sampleSeed) {
    return generator.generate(
        policy,
        m,
        ids,
        new Generator.Sampling(rl.temperature(), rl.topP(), rl.maxNewTokens(), stops, sampleSeed));
  }

  Rollout rollout(List<int[]> ids, Generator.Output out) {
    return Rollout.of(ids, out.tokens(), pad);
  }
}

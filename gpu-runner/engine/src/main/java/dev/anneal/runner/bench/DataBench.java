package dev.anneal.runner.bench;

import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.HfTokenizer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tokenization throughput of each of the engine's tokenizer paths against Hugging Face tokenizers'
 * own batch encoding of the same {@code tokenizer.json}, in the same run on the same text: the
 * engine's byte-level BPE (trained here on the corpus), that file run one text at a time through
 * Hugging Face's library (how {@link HfTokenizer#encode} runs), and, given {@code --hub DIR} with
 * {@code <model>/tokenizer.json} folders (the build's {@code target/hub}), each real tokenizer one
 * text at a time against its batch. The ids of both paths are compared too.
 */
public final class DataBench {

  public record Options(int docs, int repeats, Path hub, int trainVocab) {}

  private DataBench() {}

  public static int run(Options o, PrintStream out) {
    try {
      return measure(o, out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static int measure(Options o, PrintStream out) throws IOException {
    List<String> texts = new ArrayList<>();
    for (SyntheticCorpus.Doc d : SyntheticCorpus.generate(1234, o.docs())) texts.add(d.text());
    long bytes = 0;
    for (String t : texts) bytes += t.getBytes(StandardCharsets.UTF_8).length;
    out.printf(
        "tokenization: %d synthetic documents, %.1f MB, best of %d, %d threads%n",
        texts.size(), bytes / 1e6, o.repeats(), Runtime.getRuntime().availableProcessors());
    out.printf(
        "%-26s %12s %12s %14s %s%n", "tokenizer / path", "MB/s", "tokens/s", "÷ HF batch", "ids");
    BpeTokenizer ours = BpeTrainer.train(texts, 4096, false, TokenizerSpec.DEFAULT_SPECIALS);
    HfTokenizer same = (HfTokenizer) HfTokenizer.of(ours.toHuggingFaceJson(), null);
    compare(out, "anneal BPE 4096", ours, same, texts, bytes, o.repeats());
    if (o.hub() != null && Files.isDirectory(o.hub())) {
      try (var dirs = Files.list(o.hub())) {
        for (Path d : dirs.sorted().toList()) {
          if (!Files.isRegularFile(d.resolve("tokenizer.json"))) continue;
          Tokenizer t = Tokenizers.fromJson(Files.readString(d.resolve("tokenizer.json")), "{}");
          if (t instanceof HfTokenizer hf) {
            compare(out, d.getFileName().toString(), hf, hf, texts, bytes, o.repeats());
          }
        }
      }
    }
    out.println(
        "ratio: a path's throughput ÷ Hugging Face's batch encoding of the same tokenizer.json;"
            + " ids 'same' = identical on every document");
    training(out, o.trainVocab());
    return 0;
  }

  /**
   * BPE training time of the incremental trainer against the definition (every pair recounted for
   * every merge), on a corpus of random syllable words varied enough to give every merge asked for
   * (the synthetic documents repeat too few pairs).
   */
  private static void training(PrintStream out, int vocab) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    String[] syl = {
      "ka", "to", "ri", "mu", "sen", "dal", "qu", "ix", "or", "ben", "tha", "lo", "ve", "ny", "gr",
      "ph", "st", "an", "el", "ou", "ch", "sh", "za", "pe", "wi"
    };
    List<String> texts = new ArrayList<>();
    for (int d = 0; d < 4000; d++) {
      StringBuilder sb = new StringBuilder();
      for (int w = 0; w < 60; w++) {
        for (int k = 1 + r.nextInt(4); k > 0; k--) {
          sb.append(syl[(int) Math.min(syl.length - 1, Math.abs(r.nextGaussian() * 8))]);
        }
        sb.append(' ');
      }
      texts.add(sb.toString());
    }
    List<String> specials = TokenizerSpec.DEFAULT_SPECIALS;
    long t0 = System.nanoTime();
    BpeTokenizer fast = BpeTrainer.train(texts, vocab, false, specials);
    double incremental = (System.nanoTime() - t0) / 1e9;
    long t1 = System.nanoTime();
    List<String[]> slow =
        dev.anneal.runner.tokenizer.BpeReference.merges(texts, vocab, false, specials);
    double reference = (System.nanoTime() - t1) / 1e9;
    boolean same = slow.size() == fast.merges().size();
    for (int i = 0; same && i < slow.size(); i++) {
      same = Arrays.equals(slow.get(i), fast.merges().get(i));
    }
    out.printf(
        "BPE training to %d tokens (%d merges, 4000 random-syllable documents): incremental %.2f s,"
            + " the definition %.2f s, ratio %.3f, merges %s%n",
        vocab,
        fast.merges().size(),
        incremental,
        reference,
        incremental / reference,
        same ? "same" : "DIFFER");
  }

  private static void compare(
      PrintStream out,
      String name,
      Tokenizer path,
      HfTokenizer reference,
      List<String> texts,
      long bytes,
      int repeats) {
    long[] tokens = new long[1];
    double batch =
        best(
            repeats,
            () -> {
              long n = 0;
              for (int[] ids : reference.encodeBatch(texts)) n += ids.length;
              tokens[0] = n;
            });
    double single =
        best(
            repeats,
            () -> {
              for (String t : texts) path.encode(t);
            });
    List<int[]> a = reference.encodeBatch(texts);
    boolean same = true;
    for (int i = 0; i < texts.size() && same; i++) {
      same = Arrays.equals(a.get(i), path.encode(texts.get(i)));
    }
    String label = path == reference ? "one by one" : path.getClass().getSimpleName();
    row(out, name + " (" + label + ")", bytes, tokens[0], single, batch / single, same);
    row(out, name + " (HF batch)", bytes, tokens[0], batch, 1.0, true);
  }

  private static void row(
      PrintStream out, String name, long bytes, long tokens, double s, double ratio, boolean same) {
    out.printf(
        "%-26s %12.2f %12.0f %14.2f %s%n",
        name, bytes / 1e6 / s, tokens / s, ratio, same ? "same" : "DIFFER");
  }

  /** The fastest of {@code repeats} runs, in seconds, after one warm-up. */
  private static double best(int repeats, Runnable r) {
    r.run();
    double best = Double.MAX_VALUE;
    for (int i = 0; i < repeats; i++) {
      long t0 = System.nanoTime();
      r.run();
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
    }
    return best;
  }
}

package dev.anneal.runner.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Trains a byte-level BPE vocabulary: ids 0..k-1 are the special tokens, then the 256 byte symbols,
 * then one token per merge, most frequent pair first (ties broken by the pair's text, so training
 * is deterministic). Merges are incremental: pair counts are kept and, after each merge, updated
 * only in the words that held the merged pair (an index from each pair to its words), the next pair
 * taken from a priority queue whose stale entries are skipped — instead of recounting every pair of
 * the corpus for every merge, which does not reach a 32k vocabulary.
 */
public final class BpeTrainer {

  private BpeTrainer() {}

  /** A pair's count when it was queued; stale once the count has changed. */
  private record Queued(long count, int a, int b) {}

  public static BpeTokenizer train(
      Iterable<String> texts, int vocabSize, boolean nfkc, List<String> specialTokens) {
    int base = specialTokens.size() + 256;
    if (vocabSize < base) {
      throw new IllegalArgumentException(
          "vocabSize: must be at least "
              + base
              + " (special tokens + 256 bytes), got "
              + vocabSize);
    }
    Map<String, Integer> counts = new HashMap<>();
    for (String text : texts) {
      String t = nfkc ? Normalizer.normalize(text, Normalizer.Form.NFKC) : text;
      for (String part : BpeTokenizer.splitSpecial(t, specialTokens)) {
        if (specialTokens.contains(part)) continue;
        for (String piece : ByteLevel.preTokenize(part)) {
          counts.merge(piece, 1, Integer::sum);
        }
      }
    }

    LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : specialTokens) vocab.put(s, vocab.size());
    for (char c : ByteLevel.alphabet()) vocab.put(String.valueOf(c), vocab.size());

    // symbols as ints: their text in `text`
    List<String> text = new ArrayList<>();
    Map<String, Integer> symbol = new HashMap<>();
    int[][] words = new int[counts.size()][];
    long[] freq = new long[counts.size()];
    int n = 0;
    for (var e : counts.entrySet()) {
      String w = e.getKey();
      int[] s = new int[w.length()];
      for (int i = 0; i < w.length(); i++) {
        s[i] = symbol.computeIfAbsent(String.valueOf(w.charAt(i)), k -> intern(text, k));
      }
      words[n] = s;
      freq[n++] = e.getValue();
    }

    Map<Long, long[]> pairs = new HashMap<>();
    Map<Long, Set<Integer>> where = new HashMap<>();
    for (int w = 0; w < words.length; w++) add(words[w], freq[w], w, pairs, where, +1);
    PriorityQueue<Queued> queue =
        new PriorityQueue<>(
            (x, y) -> {
              if (x.count() != y.count()) return Long.compare(y.count(), x.count());
              int c = text.get(x.a()).compareTo(text.get(y.a()));
              return c != 0 ? c : text.get(x.b()).compareTo(text.get(y.b()));
            });
    pairs.forEach((k, c) -> queue.add(new Queued(c[0], (int) (k >>> 32), (int) (long) k)));

    List<String[]> merges = new ArrayList<>();
    while (vocab.size() < vocabSize && !queue.isEmpty()) {
      Queued top = queue.poll();
      long key = key(top.a(), top.b());
      long[] now = pairs.get(key);
      if (now == null || now[0] != top.count()) continue; // stale
      if (top.count() < 2) break; // nothing left worth merging
      String a = text.get(top.a());
      String b = text.get(top.b());
      String merged = a + b;
      int m = symbol.computeIfAbsent(merged, k -> intern(text, k));
      merges.add(new String[] {a, b});
      vocab.putIfAbsent(merged, vocab.size());
      Set<Long> changed = new HashSet<>();
      for (int w : List.copyOf(where.getOrDefault(key, Set.of()))) {
        int[] s = words[w];
        int[] out = merge(s, top.a(), top.b(), m);
        if (out == s) continue;
        add(s, freq[w], w, pairs, where, -1);
        add(out, freq[w], w, pairs, where, +1);
        for (int i = 0; i + 1 < s.length; i++) changed.add(key(s[i], s[i + 1]));
        for (int i = 0; i + 1 < out.length; i++) changed.add(key(out[i], out[i + 1]));
        words[w] = out;
      }
      for (long k : changed) {
        long[] c = pairs.get(k);
        if (c != null) queue.add(new Queued(c[0], (int) (k >>> 32), (int) k));
      }
    }
    return new BpeTokenizer(vocab, merges, specialTokens, nfkc);
  }

  private static int intern(List<String> text, String s) {
    text.add(s);
    return text.size() - 1;
  }

  private static long key(int a, int b) {
    return ((long) a << 32) | (b & 0xffffffffL);
  }

  /** Counts (or uncounts) a word's adjacent pairs; indexes the word under each. */
  private static void add(
      int[] s, long f, int w, Map<Long, long[]> pairs, Map<Long, Set<Integer>> where, int sign) {
    for (int i = 0; i + 1 < s.length; i++) {
      long k = key(s[i], s[i + 1]);
      long[] c = pairs.computeIfAbsent(k, x -> new long[1]);
      c[0] += sign * f;
      if (c[0] == 0) pairs.remove(k);
      if (sign > 0) where.computeIfAbsent(k, x -> new HashSet<>()).add(w);
    }
  }

  /** The word with every (a, b) replaced by m, left to right; the same array when none is. */
  private static int[] merge(int[] s, int a, int b, int m) {
    int[] out = null;
    int o = 0;
    for (int i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
        if (out == null) {
          out = new int[s.length - 1];
          System.arraycopy(s, 0, out, 0, i);
          o = i;
        }
        out[o++] = m;
        i++;
      } else if (out != null) {
        out[o++] = s[i];
      }
    }
    return out == null ? s : java.util.Arrays.copyOf(out, o);
  }
}

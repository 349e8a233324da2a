package dev.anneal.runner.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a byte-level BPE vocabulary: ids 0..k-1 are the special tokens, then the 256 byte symbols,
 * then one token per merge, most frequent pair first (ties broken by the pair's text, so training
 * is deterministic).
 */
public final class BpeTrainer {

  private BpeTrainer() {}

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

    List<String[]> words = new ArrayList<>();
    List<Integer> freq = new ArrayList<>();
    for (var e : counts.entrySet()) {
      String w = e.getKey();
      String[] symbols = new String[w.length()];
      for (int i = 0; i < w.length(); i++) symbols[i] = String.valueOf(w.charAt(i));
      words.add(symbols);
      freq.add(e.getValue());
    }

    List<String[]> merges = new ArrayList<>();
    while (vocab.size() < vocabSize) {
      Map<String, long[]> pairCounts = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        String[] s = words.get(w);
        for (int i = 0; i + 1 < s.length; i++) {
          pairCounts.computeIfAbsent(s[i] + "\u0000" + s[i + 1], k -> new long[1])[0] +=
              freq.get(w);
        }
      }
      String best = null;
      long bestCount = 0;
      for (var e : pairCounts.entrySet()) {
        long c = e.getValue()[0];
        if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best == null || bestCount < 2) {
        break; // nothing left worth merging
      }
      int sep = best.indexOf('\u0000');
      String a = best.substring(0, sep);
      String b = best.substring(sep + 1);
      String merged = a + b;
      merges.add(new String[] {a, b});
      vocab.putIfAbsent(merged, vocab.size());
      for (int w = 0; w < words.size(); w++) {
        String[] s = words.get(w);
        if (s.length < 2) continue;
        List<String> out = new ArrayList<>(s.length);
        for (int i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i].equals(a) && s[i + 1].equals(b)) {
            out.add(merged);
            i++;
          } else {
            out.add(s[i]);
          }
        }
        if (out.size() != s.length) {
          words.set(w, out.toArray(String[]::new));
        }
      }
    }
    return new BpeTokenizer(vocab, merges, specialTokens, nfkc);
  }
}

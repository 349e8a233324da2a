package dev.anneal.runner.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE training as defined, written plainly: recount every pair of every word, take the
 * most frequent (ties: the smaller pair text), merge it left to right, repeat. Quadratic in the
 * vocabulary — the engine's trainer until 2026-12 — and kept as the oracle {@link BpeTrainer}'s
 * incremental merges are tested against and the peer {@code ./anneal bench data} times them
 * against; nothing trains with it.
 */
public final class BpeReference {
  private BpeReference() {}

  /** The merges, recounting every pair of the corpus for every merge. */
  public static List<String[]> merges(
      List<String> texts, int vocabSize, boolean nfkc, List<String> specials) {
    Map<String, Integer> counts = new HashMap<>();
    for (String text : texts) {
      String t = nfkc ? java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFKC) : text;
      for (String part : BpeTokenizer.splitSpecial(t, specials)) {
        if (specials.contains(part)) continue;
        for (String piece : ByteLevel.preTokenize(part)) counts.merge(piece, 1, Integer::sum);
      }
    }
    LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : specials) vocab.put(s, vocab.size());
    for (char c : ByteLevel.alphabet()) vocab.put(String.valueOf(c), vocab.size());
    List<String[]> words = new ArrayList<>();
    List<Integer> freq = new ArrayList<>();
    for (var e : counts.entrySet()) {
      String[] s = new String[e.getKey().length()];
      for (int i = 0; i < s.length; i++) s[i] = String.valueOf(e.getKey().charAt(i));
      words.add(s);
      freq.add(e.getValue());
    }
    List<String[]> merges = new ArrayList<>();
    while (vocab.size() < vocabSize) {
      Map<String, Long> pairs = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        String[] s = words.get(w);
        for (int i = 0; i + 1 < s.length; i++) {
          pairs.merge(s[i] + "\u0000" + s[i + 1], (long) freq.get(w), Long::sum);
        }
      }
      String best = null;
      long bestCount = 0;
      for (var e : pairs.entrySet()) {
        if (e.getValue() > bestCount
            || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null || bestCount < 2) break;
      String a = best.substring(0, best.indexOf('\u0000'));
      String b = best.substring(best.indexOf('\u0000') + 1);
      merges.add(new String[] {a, b});
      vocab.putIfAbsent(a + b, vocab.size());
      for (int w = 0; w < words.size(); w++) {
        String[] s = words.get(w);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i].equals(a) && s[i + 1].equals(b)) {
            out.add(a + b);
            i++;
          } else {
            out.add(s[i]);
          }
        }
        words.set(w, out.toArray(String[]::new));
      }
    }
    return merges;
  }
}

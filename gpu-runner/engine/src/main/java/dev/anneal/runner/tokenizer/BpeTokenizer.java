package dev.anneal.runner.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE tokenizer: optional NFKC, special tokens matched before anything else, the GPT-2
 * split, then merges applied lowest rank first — the same algorithm as Hugging Face's {@code
 * tokenizers}, to which it is written as {@code tokenizer.json}.
 */
public final class BpeTokenizer implements Tokenizer {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LinkedHashMap<String, Integer> vocab;
  private final String[] idToToken;
  private final List<String[]> merges;
  private final Map<String, Integer> mergeRank = new HashMap<>();
  private final List<String> specialTokens;
  private final boolean nfkc;

  /**
   * Pieces already encoded. Bounded: a corpus's distinct pieces (numbers, names) grow with its
   * size, and encoding a dataset must not.
   */
  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  private static final int CACHE_PIECES = 1 << 16;

  BpeTokenizer(
      LinkedHashMap<String, Integer> vocab,
      List<String[]> merges,
      List<String> specialTokens,
      boolean nfkc) {
    this.vocab = vocab;
    this.merges = List.copyOf(merges);
    this.specialTokens = List.copyOf(specialTokens);
    this.nfkc = nfkc;
    this.idToToken = new String[vocab.size()];
    vocab.forEach((token, id) -> idToToken[id] = token);
    for (int i = 0; i < merges.size(); i++) {
      mergeRank.put(merges.get(i)[0] + "\u0000" + merges.get(i)[1], i);
    }
  }

  @Override
  public int vocabSize() {
    return idToToken.length;
  }

  @Override
  public List<String> specialTokens() {
    return specialTokens;
  }

  @Override
  public int id(String token) {
    Integer id = vocab.get(token);
    if (id == null) {
      throw new IllegalArgumentException("token '" + token + "' is not in the vocabulary");
    }
    return id;
  }

  @Override
  public int[] encode(String text) {
    String t = nfkc ? Normalizer.normalize(text, Normalizer.Form.NFKC) : text;
    List<Integer> ids = new ArrayList<>();
    for (String part : splitSpecial(t, specialTokens)) {
      Integer special = specialTokens.contains(part) ? vocab.get(part) : null;
      if (special != null) {
        ids.add(special);
        continue;
      }
      for (String piece : ByteLevel.preTokenize(part)) {
        int[] known = cache.get(piece);
        if (known == null) {
          known = bpe(piece);
          if (cache.size() < CACHE_PIECES) cache.put(piece, known);
        }
        for (int id : known) ids.add(id);
      }
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    StringBuilder bytes = new StringBuilder();
    for (int id : ids) {
      String tok = idToToken[id];
      if (specialTokens.contains(tok)) {
        sb.append(ByteLevel.fromAlphabet(bytes.toString())).append(tok);
        bytes.setLength(0);
      } else {
        bytes.append(tok);
      }
    }
    return sb.append(ByteLevel.fromAlphabet(bytes.toString())).toString();
  }

  private int[] bpe(String piece) {
    List<String> symbols = new ArrayList<>(piece.length());
    for (int i = 0; i < piece.length(); i++) symbols.add(String.valueOf(piece.charAt(i)));
    while (symbols.size() > 1) {
      int bestRank = Integer.MAX_VALUE;
      int bestAt = -1;
      for (int i = 0; i + 1 < symbols.size(); i++) {
        Integer r = mergeRank.get(symbols.get(i) + "\u0000" + symbols.get(i + 1));
        if (r != null && r < bestRank) {
          bestRank = r;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      String a = symbols.get(bestAt);
      String b = symbols.get(bestAt + 1);
      List<String> out = new ArrayList<>(symbols.size());
      for (int i = 0; i < symbols.size(); i++) {
        if (i + 1 < symbols.size() && symbols.get(i).equals(a) && symbols.get(i + 1).equals(b)) {
          out.add(a + b);
          i++;
        } else {
          out.add(symbols.get(i));
        }
      }
      symbols = out;
    }
    int[] ids = new int[symbols.size()];
    for (int i = 0; i < ids.length; i++) ids[i] = vocab.get(symbols.get(i));
    return ids;
  }

  /** Splits text into special tokens and the runs between them, in order. */
  static List<String> splitSpecial(String text, List<String> specials) {
    if (specials.isEmpty()) return List.of(text);
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    outer:
    while (i < text.length()) {
      for (String s : specials) {
        if (text.startsWith(s, i)) {
          if (i > start) out.add(text.substring(start, i));
          out.add(s);
          i += s.length();
          start = i;
          continue outer;
        }
      }
      i++;
    }
    if (start < text.length()) out.add(text.substring(start));
    return out;
  }

  /** A special token as Hugging Face writes one: whole, never stripped, normalised or split. */
  public static ObjectNode addedToken(ObjectNode t, String content) {
    return t.put("content", content)
        .put("single_word", false)
        .put("lstrip", false)
        .put("rstrip", false)
        .put("normalized", false)
        .put("special", true);
  }

  /** GPT-2's byte-level pre-tokenizer and decoder settings. */
  private static void byteLevel(ObjectNode n) {
    n.put("type", "ByteLevel")
        .put("add_prefix_space", false)
        .put("trim_offsets", true)
        .put("use_regex", true);
  }

  /** The Hugging Face {@code tokenizer.json} document. */
  @Override
  public String toHuggingFaceJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (String s : specialTokens) {
      addedToken(added.addObject().put("id", vocab.get(s)), s);
    }
    if (nfkc) {
      root.putObject("normalizer").put("type", "NFKC");
    } else {
      root.putNull("normalizer");
    }
    byteLevel(root.putObject("pre_tokenizer"));
    root.putNull("post_processor");
    byteLevel(root.putObject("decoder"));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode v = model.putObject("vocab");
    vocab.forEach(v::put);
    ArrayNode m = model.putArray("merges");
    for (String[] pair : merges) {
      m.add(pair[0] + " " + pair[1]);
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public void save(Path file) throws IOException {
    Files.writeString(file, toHuggingFaceJson(), StandardCharsets.UTF_8);
  }

  /** Reads a {@code tokenizer.json} this class wrote (byte-level BPE, optional NFKC). */
  public static BpeTokenizer fromHuggingFaceJson(String json) {
    try {
      JsonNode root = JSON.readTree(json);
      JsonNode model = root.path("model");
      if (!"BPE".equals(model.path("type").asText())
          || !"ByteLevel".equals(root.path("pre_tokenizer").path("type").asText())) {
        throw new IllegalArgumentException(
            "tokenizer.json: only byte-level BPE tokenizers are supported");
      }
      LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
      List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
      model.path("vocab").fields().forEachRemaining(entries::add);
      entries.sort(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.asInt(), b.asInt())));
      for (var e : entries) vocab.put(e.getKey(), e.getValue().asInt());
      List<String[]> merges = new ArrayList<>();
      for (JsonNode m : model.path("merges")) {
        String s = m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText();
        int sp = s.indexOf(' ');
        merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
      }
      List<String> specials = new ArrayList<>();
      for (JsonNode t : root.path("added_tokens")) {
        if (t.path("special").asBoolean()) specials.add(t.path("content").asText());
      }
      boolean nfkc = "NFKC".equals(root.path("normalizer").path("type").asText());
      return new BpeTokenizer(vocab, merges, specials, nfkc);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokenizer.json: malformed JSON: " + e.getMessage(), e);
    }
  }

  public List<String[]> merges() {
    return Collections.unmodifiableList(merges);
  }
}

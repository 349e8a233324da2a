package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A deterministic synthetic corpus with sources of different character, so that mixtures and
 * curricula have visible effects: arithmetic facts, templated prose whose last sentence refers back
 * to its first, code-like snippets, and question-answer dialogues about a small fictional world.
 */
public final class SyntheticCorpus {

  public static final List<String> SOURCES = List.of("arithmetic", "prose", "code", "dialogue");

  public record Doc(String source, String text) {}

  private static final String[] NAMES = {
    "Mira", "Tomas", "Ines", "Kofi", "Lena", "Ravi", "Odile", "Bruno", "Yuki", "Amara"
  };
  private static final String[] COLOURS = {"red", "green", "blue", "yellow", "black", "white"};
  private static final String[] THINGS = {"kite", "lamp", "book", "drum", "scarf", "clock"};
  private static final String[] PLACES = {"attic", "garden", "cellar", "kitchen", "shed", "hall"};
  private static final String[] ERRANDS = {
    "walks to the market",
    "writes a long letter",
    "repairs a bicycle",
    "bakes some bread",
    "feeds the goats",
    "reads by the river"
  };
  private static final String[][] WORLD = {
    {"capital of Norland", "Velmar"}, {"river of Estria", "the Calun"},
    {"highest peak of Norland", "Mount Orr"}, {"currency of Estria", "the lume"},
    {"oldest city of Varo", "Tessaly"}, {"national bird of Varo", "the grey heron"}
  };

  private SyntheticCorpus() {}

  /** {@code n} documents cycling through every source. */
  public static List<Doc> generate(long seed, int n) {
    List<Doc> docs = new ArrayList<>(n);
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      docs.add(doc(SOURCES.get(i % SOURCES.size()), rng));
    }
    return docs;
  }

  /** {@code n} documents of one source. */
  public static List<Doc> generate(String source, long seed, int n) {
    if (!SOURCES.contains(source)) {
      throw new IllegalArgumentException("unknown synthetic source '" + source + "' " + SOURCES);
    }
    SplittableRandom rng = new SplittableRandom(seed ^ source.hashCode());
    List<Doc> docs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      docs.add(doc(source, rng));
    }
    return docs;
  }

  /**
   * Chat dialogues for SFT: a question about an addition fact ({@code What is 3 + 4?} → {@code 7})
   * or about the fictional world of the {@code dialogue} source ({@code What is the capital of
   * Norland?} → {@code The capital of Norland is Velmar.}). Pre-training saw the facts as prose;
   * SFT teaches the chat format and the short answer.
   */
  public static List<List<ChatTemplate.Message>> chat(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed ^ "chat".hashCode());
    List<List<ChatTemplate.Message>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (r.nextInt(3) < 2) {
        int a = r.nextInt(10);
        int b = r.nextInt(10);
        out.add(
            List.of(
                new ChatTemplate.Message("user", "What is " + a + " + " + b + "?"),
                new ChatTemplate.Message("assistant", Integer.toString(a + b))));
      } else {
        String[] fact = WORLD[r.nextInt(WORLD.length)];
        out.add(
            List.of(
                new ChatTemplate.Message("user", "What is the " + fact[0] + "?"),
                new ChatTemplate.Message("assistant", "The " + fact[0] + " is " + fact[1] + ".")));
      }
    }
    return out;
  }

  /**
   * Preference pairs for the reward model, on the questions of {@link #chat}: the chosen response
   * is the right answer in the trained format; the rejected one is a wrong answer (a near-miss sum
   * half the time, else another number; another place) or an evasion.
   */
  public static List<PreferenceData.Preference> preferences(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed ^ "preferences".hashCode());
    List<PreferenceData.Preference> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (r.nextInt(3) < 2) {
        int a = r.nextInt(10);
        int b = r.nextInt(10);
        // half the time a near miss (off by one or two, the mistakes a model makes), else any
        // other sum in 0..18: a reward model that only saw random wrong sums ranked those well
        // and the near misses poorly, and PPO found the near misses at once
        int sum = a + b;
        int wrong;
        if (r.nextBoolean()) {
          int d = 1 + r.nextInt(2);
          wrong = r.nextBoolean() ? sum + d : sum - d;
          if (wrong < 0 || wrong > 18) wrong = sum + d <= 18 ? sum + d : sum - d;
        } else {
          wrong = (sum + 1 + r.nextInt(18)) % 19;
        }
        String rejected = r.nextInt(4) == 0 ? "I do not know." : Integer.toString(wrong);
        out.add(
            new PreferenceData.Preference(
                "What is " + a + " + " + b + "?", Integer.toString(a + b), rejected));
      } else {
        int k = r.nextInt(WORLD.length);
        String[] fact = WORLD[k];
        String[] other = WORLD[(k + 1 + r.nextInt(WORLD.length - 1)) % WORLD.length];
        out.add(
            new PreferenceData.Preference(
                "What is the " + fact[0] + "?",
                "The " + fact[0] + " is " + fact[1] + ".",
                "The " + fact[0] + " is " + other[1] + "."));
      }
    }
    return out;
  }

  /**
   * Prompts for RLHF: the questions of {@link #chat} (drawn from another stream), each with its
   * reference answer.
   */
  public static List<PromptData.Prompt> prompts(long seed, int n) {
    List<PromptData.Prompt> out = new ArrayList<>(n);
    for (List<ChatTemplate.Message> d : chat(seed ^ 0x50524F4D50L, n)) {
      out.add(new PromptData.Prompt(d.subList(0, d.size() - 1), d.get(d.size() - 1).content()));
    }
    return out;
  }

  /** A dataset key {@code synthetic:<source>[?docs=N]}, parsed; N defaults to 2000. */
  public record Key(String source, int docs) {
    public static boolean is(String key) {
      return key.startsWith("synthetic:");
    }

    public static Key parse(String key) {
      String rest = key.substring("synthetic:".length());
      int q = rest.indexOf("?docs=");
      return new Key(
          q < 0 ? rest : rest.substring(0, q),
          q < 0 ? 2000 : Integer.parseInt(rest.substring(q + 6)));
    }
  }

  /** The arithmetic facts the tiny model is asked to learn: a + b for a, b in 0..9. */
  public static String arithmeticFact(int a, int b) {
    return a + " + " + b + " = " + (a + b);
  }

  private static Doc doc(String source, SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    switch (source) {
      case "arithmetic" -> {
        for (int i = 0; i < 6; i++) {
          sb.append(arithmeticFact(r.nextInt(10), r.nextInt(10))).append('\n');
        }
      }
      case "prose" -> {
        String name = pick(r, NAMES);
        String colour = pick(r, COLOURS);
        String thing = pick(r, THINGS);
        String place = pick(r, PLACES);
        sb.append(name)
            .append(" keeps a ")
            .append(colour)
            .append(' ')
            .append(thing)
            .append(" in the ")
            .append(place)
            .append(". ");
        for (int i = 0; i < 2 + r.nextInt(3); i++) {
          sb.append("Then ").append(name).append(' ').append(pick(r, ERRANDS)).append(". ");
        }
        sb.append("Later someone asks what ")
            .append(name)
            .append(" keeps in the ")
            .append(place)
            .append(". The answer is a ")
            .append(colour)
            .append(' ')
            .append(thing)
            .append(".\n");
      }
      case "code" -> {
        int k = 1 + r.nextInt(9);
        int x = r.nextInt(10);
        String op = r.nextBoolean() ? "+" : "*";
        String fn = (op.equals("+") ? "add_" : "times_") + k;
        int result = op.equals("+") ? x + k : x * k;
        sb.append("def ")
            .append(fn)
            .append("(x):\n    return x ")
            .append(op)
            .append(' ')
            .append(k)
            .append("\n\nprint(")
            .append(fn)
            .append('(')
            .append(x)
            .append("))  # ")
            .append(result)
            .append('\n');
      }
      case "dialogue" -> {
        String[] fact = WORLD[r.nextInt(WORLD.length)];
        sb.append("User: What is the ")
            .append(fact[0])
            .append("?\nAssistant: The ")
            .append(fact[0])
            .append(" is ")
            .append(fact[1])
            .append(".\n");
      }
      default -> throw new IllegalArgumentException(source);
    }
    return new Doc(source, sb.toString());
  }

  private static String pick(SplittableRandom r, String[] values) {
    return values[r.nextInt(values.length)];
  }

  /** Writes one JSONL file a source ({@code {"text": ...}} per line); returns name → file. */
  public static Map<String, Path> writeJsonl(Path dir, long seed, int docsPerSource)
      throws IOException {
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper();
    Map<String, Path> files = new LinkedHashMap<>();
    for (String source : SOURCES) {
      Path file = dir.resolve(source + ".jsonl");
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (Doc d : generate(source, seed, docsPerSource)) {
          w.write(json.writeValueAsString(Map.of("text", d.text())));
          w.write('\n');
        }
      }
      files.put(source, file);
    }
    return files;
  }
}

package dev.anneal.runner;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options after a command; unknown names are an error. */
final class Args {
  private final Map<String, String> values = new HashMap<>();

  Args(String[] args, int from, Set<String> known, Set<String> flags) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flags.contains(name)) {
        values.put(name, "true");
        continue;
      }
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "unknown option --"
                + name
                + " (known: --"
                + String.join(", --", known.stream().sorted().toList())
                + ")");
      }
      if (value == null) {
        if (i + 1 >= args.length)
          throw new IllegalArgumentException("--" + name + " needs a value");
        value = args[++i];
      }
      values.put(name, value);
    }
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  long getLong(String name, long fallback) {
    return values.containsKey(name) ? Long.parseLong(values.get(name)) : fallback;
  }

  int getInt(String name, int fallback) {
    return values.containsKey(name) ? Integer.parseInt(values.get(name)) : fallback;
  }

  double getDouble(String name, double fallback) {
    return values.containsKey(name) ? Double.parseDouble(values.get(name)) : fallback;
  }

  dev.anneal.runner.bench.EngineBench.Options asBenchOptions() {
    boolean quick = has("quick");
    return new dev.anneal.runner.bench.EngineBench.Options(
        quick,
        has("presets") ? list("presets") : List.of("tiny", "small"),
        has("precisions") ? list("precisions") : List.of("fp32", "fp16-mixed"),
        getInt("steps", quick ? 4 : 20),
        get("json", null),
        getInt("seq", 128),
        getInt("batch", 16));
  }

  List<String> list(String name) {
    return values.containsKey(name) ? List.of(values.get(name).split(",")) : List.of();
  }
}

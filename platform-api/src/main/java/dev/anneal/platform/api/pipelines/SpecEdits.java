package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.platform.api.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Edits of a spec by field path, for clone: {@code stages[1].hyperparameters.lr} = 1e-4. Objects on
 * the way are made when missing; an array index must exist (or be the length, to append). The
 * edited spec is then validated as any submitted one, so a misspelt field fails with its path.
 */
public final class SpecEdits {
  private SpecEdits() {}

  public static void apply(ObjectNode root, Map<String, JsonNode> edits) {
    for (Map.Entry<String, JsonNode> e : edits.entrySet()) {
      set(root, e.getKey(), e.getValue());
    }
  }

  static List<Object> parse(String path) {
    List<Object> out = new ArrayList<>();
    int i = 0;
    while (i < path.length()) {
      char c = path.charAt(i);
      if (c == '.') {
        if (i == 0 || i == path.length() - 1)
          throw bad(path, "a path cannot start or end with '.'");
        i++;
        continue;
      }
      if (c == '[') {
        int close = path.indexOf(']', i);
        if (close < 0) throw bad(path, "'[' without ']'");
        try {
          out.add(Integer.parseInt(path.substring(i + 1, close)));
        } catch (NumberFormatException ex) {
          throw bad(path, "an index must be a number");
        }
        i = close + 1;
        continue;
      }
      int j = i;
      while (j < path.length() && path.charAt(j) != '.' && path.charAt(j) != '[') j++;
      out.add(path.substring(i, j));
      i = j;
    }
    if (out.isEmpty()) throw bad(path, "the path is empty");
    return out;
  }

  static void set(ObjectNode root, String path, JsonNode value) {
    List<Object> parts = parse(path);
    JsonNode node = root;
    for (int k = 0; k < parts.size(); k++) {
      Object p = parts.get(k);
      boolean last = k == parts.size() - 1;
      Object next = last ? null : parts.get(k + 1);
      if (p instanceof String name) {
        if (!(node instanceof ObjectNode obj))
          throw bad(path, "'" + name + "' is not inside an object");
        if (last) {
          obj.set(name, value);
        } else {
          JsonNode child = obj.get(name);
          if (child == null || child.isNull()) {
            if (next instanceof Integer) throw bad(path, "'" + name + "' has no list to index");
            child = obj.putObject(name);
          }
          node = child;
        }
      } else {
        int index = (Integer) p;
        if (!(node instanceof ArrayNode arr))
          throw bad(path, "[" + index + "] is not inside a list");
        if (index < 0 || index > arr.size()) {
          throw bad(path, "index " + index + " is outside the list of " + arr.size());
        }
        if (last) {
          if (index == arr.size()) arr.add(value);
          else arr.set(index, value);
        } else {
          if (index == arr.size()) arr.addObject();
          node = arr.get(index);
        }
      }
    }
  }

  private static ApiException bad(String path, String why) {
    return ApiException.badRequest("set." + path + ": " + why, "set." + path);
  }
}

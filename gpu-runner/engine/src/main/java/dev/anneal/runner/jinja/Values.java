package dev.anneal.runner.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's semantics for the template's values: truthiness, {@code str()}, operators, indexing and
 * slicing, string methods, and Jinja's filters and tests. Lists are {@link List}, dicts {@link
 * Map}, integers {@link Long}, floats {@link Double}; a missing variable or key is {@link
 * #UNDEFINED} (renders empty, is false, {@code is defined} says no), as in jinja2's default.
 */
final class Values {
  private Values() {}

  /** jinja2's Undefined. */
  static final Object UNDEFINED =
      new Object() {
        @Override
        public String toString() {
          return "";
        }
      };

  /** A function of the context ({@code raise_exception}, {@code namespace}). */
  @FunctionalInterface
  interface Callable {
    Object call(List<Object> args, Map<String, Object> kwargs);
  }

  /** {@code namespace(…)}: attributes a {@code set ns.x = …} can change from inside a loop. */
  static final class Namespace extends LinkedHashMap<String, Object> {
    Namespace(Map<String, Object> init) {
      super(init);
    }
  }

  static boolean truthy(Object v) {
    if (v == null || v == UNDEFINED) return false;
    if (v instanceof Boolean b) return b;
    if (v instanceof Long l) return l != 0;
    if (v instanceof Double d) return d != 0;
    if (v instanceof Number n) return n.doubleValue() != 0;
    if (v instanceof String s) return !s.isEmpty();
    if (v instanceof Collection<?> c) return !c.isEmpty();
    if (v instanceof Map<?, ?> m) return !m.isEmpty();
    return true;
  }

  /** Python's {@code str()} of a value, as Jinja prints it. */
  static String str(Object v) {
    if (v == UNDEFINED) return "";
    if (v == null) return "None";
    if (v instanceof Boolean b) return b ? "True" : "False";
    if (v instanceof Double d) {
      if (d == Math.rint(d) && !Double.isInfinite(d)) return String.format(Locale.ROOT, "%.1f", d);
      return Double.toString(d);
    }
    if (v instanceof Number n) return Long.toString(n.longValue());
    if (v instanceof String s) return s;
    if (v instanceof List<?> l) {
      List<String> parts = new ArrayList<>();
      for (Object o : l) parts.add(repr(o));
      return "[" + String.join(", ", parts) + "]";
    }
    if (v instanceof Map<?, ?> m) {
      List<String> parts = new ArrayList<>();
      m.forEach((k, x) -> parts.add(repr(k) + ": " + repr(x)));
      return "{" + String.join(", ", parts) + "}";
    }
    return v.toString();
  }

  private static String repr(Object v) {
    if (v instanceof String s) return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    return str(v);
  }

  static Object number(Object v) {
    if (v instanceof Integer i) return (long) i;
    if (v instanceof Boolean b) return b ? 1L : 0L;
    return v;
  }

  static Object binary(String op, Object l, Object r) {
    l = number(l);
    r = number(r);
    switch (op) {
      case "==":
        return equal(l, r);
      case "!=":
        return !equal(l, r);
      case "in":
        return contains(r, l);
      case "~":
        return str(l) + str(r);
      case "+":
        if (l instanceof String a && r instanceof String b) return a + b;
        if (l instanceof List<?> a && r instanceof List<?> b) {
          List<Object> out = new ArrayList<>(a);
          out.addAll(b);
          return out;
        }
        break;
      default:
        break;
    }
    if (l instanceof Number a && r instanceof Number b) {
      boolean ints = a instanceof Long && b instanceof Long;
      switch (op) {
        case "+":
          return ints
              ? (Object) (a.longValue() + b.longValue())
              : a.doubleValue() + b.doubleValue();
        case "-":
          return ints
              ? (Object) (a.longValue() - b.longValue())
              : a.doubleValue() - b.doubleValue();
        case "*":
          return ints
              ? (Object) (a.longValue() * b.longValue())
              : a.doubleValue() * b.doubleValue();
        case "/":
          return a.doubleValue() / b.doubleValue();
        case "//":
          return ints
              ? (Object) Math.floorDiv(a.longValue(), b.longValue())
              : Math.floor(a.doubleValue() / b.doubleValue());
        case "%":
          return ints
              ? (Object) Math.floorMod(a.longValue(), b.longValue())
              : a.doubleValue() % b.doubleValue();
        case "<":
          return a.doubleValue() < b.doubleValue();
        case "<=":
          return a.doubleValue() <= b.doubleValue();
        case ">":
          return a.doubleValue() > b.doubleValue();
        case ">=":
          return a.doubleValue() >= b.doubleValue();
        default:
          break;
      }
    }
    if (l instanceof String a && r instanceof String b) {
      int c = a.compareTo(b);
      switch (op) {
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
        case ">":
          return c > 0;
        case ">=":
          return c >= 0;
        default:
          break;
      }
    }
    if (op.equals("*") && l instanceof String s && r instanceof Long n)
      return s.repeat((int) Math.max(0, n));
    throw new Jinja.TemplateException(
        "cannot apply '" + op + "' to " + type(l) + " and " + type(r));
  }

  private static boolean equal(Object l, Object r) {
    if (l == UNDEFINED || r == UNDEFINED) return l == r;
    if (l instanceof Number a && r instanceof Number b) return a.doubleValue() == b.doubleValue();
    return java.util.Objects.equals(l, r);
  }

  private static boolean contains(Object container, Object x) {
    if (container instanceof String s) return x instanceof String t && s.contains(t);
    if (container instanceof Map<?, ?> m) return m.containsKey(x);
    if (container instanceof Collection<?> c) {
      for (Object o : c) if (equal(number(o), number(x))) return true;
      return false;
    }
    if (container == UNDEFINED) throw new Jinja.TemplateException("'in' an undefined value");
    throw new Jinja.TemplateException("'in' needs a string, list or dict, got " + type(container));
  }

  static String type(Object v) {
    if (v == UNDEFINED) return "undefined";
    if (v == null) return "none";
    if (v instanceof String) return "string";
    if (v instanceof Boolean) return "boolean";
    if (v instanceof Number) return "number";
    if (v instanceof List) return "list";
    if (v instanceof Map) return "dict";
    return v.getClass().getSimpleName();
  }

  static Object attribute(Object target, String name) {
    if (target instanceof Map<?, ?> m) return m.containsKey(name) ? m.get(name) : UNDEFINED;
    return UNDEFINED;
  }

  static Object item(Object target, Object index) {
    index = number(index);
    if (target instanceof Map<?, ?> m) return m.containsKey(index) ? m.get(index) : UNDEFINED;
    if (index instanceof Long i) {
      if (target instanceof List<?> l) {
        long k = i < 0 ? l.size() + i : i;
        return k >= 0 && k < l.size() ? l.get((int) k) : UNDEFINED;
      }
      if (target instanceof String s) {
        long k = i < 0 ? s.length() + i : i;
        return k >= 0 && k < s.length() ? String.valueOf(s.charAt((int) k)) : UNDEFINED;
      }
    }
    if (target == UNDEFINED) return UNDEFINED;
    throw new Jinja.TemplateException("cannot index " + type(target) + " with " + type(index));
  }

  static Object slice(Object target, Object start, Object stop, Object step) {
    List<Object> items;
    boolean string = target instanceof String;
    if (string) {
      items = new ArrayList<>();
      for (char c : ((String) target).toCharArray()) items.add(String.valueOf(c));
    } else if (target instanceof List<?> l) {
      items = new ArrayList<>(l);
    } else {
      throw new Jinja.TemplateException("cannot slice " + type(target));
    }
    int n = items.size();
    long st = step == null ? 1 : (Long) number(step);
    if (st == 0) throw new Jinja.TemplateException("slice step cannot be zero");
    long a;
    long b;
    if (st > 0) {
      a = start == null ? 0 : clamp((Long) number(start), n, 0, n);
      b = stop == null ? n : clamp((Long) number(stop), n, 0, n);
    } else {
      a = start == null ? n - 1 : clamp((Long) number(start), n, -1, n - 1);
      b = stop == null ? -1 : clamp((Long) number(stop), n, -1, n - 1);
    }
    List<Object> out = new ArrayList<>();
    for (long i = a; st > 0 ? i < b : i > b; i += st) out.add(items.get((int) i));
    if (!string) return out;
    StringBuilder sb = new StringBuilder();
    for (Object o : out) sb.append(o);
    return sb.toString();
  }

  private static long clamp(long i, int n, long lo, long hi) {
    if (i < 0) i += n;
    return Math.max(lo, Math.min(hi, i));
  }

  /** The string methods chat templates call. */
  static Object method(Object self, String name, List<Object> a) {
    if (!(self instanceof String s)) {
      if (self instanceof Map<?, ?> m) {
        switch (name) {
          case "items":
            List<Object> out = new ArrayList<>();
            m.forEach((k, v) -> out.add(List.of(k, v == null ? UNDEFINED : v)));
            return out;
          case "keys":
            return new ArrayList<>(m.keySet());
          case "values":
            return new ArrayList<>(m.values());
          case "get":
            Object v = m.get(a.get(0));
            return v != null || m.containsKey(a.get(0)) ? v : (a.size() > 1 ? a.get(1) : null);
          default:
            break;
        }
      }
      throw new Jinja.TemplateException(type(self) + " has no method " + name + "()");
    }
    switch (name) {
      case "startswith":
        return s.startsWith(str(a.get(0)));
      case "endswith":
        return s.endsWith(str(a.get(0)));
      case "strip":
        return rstrip(lstrip(s, a), a);
      case "lstrip":
        return lstrip(s, a);
      case "rstrip":
        return rstrip(s, a);
      case "upper":
        return s.toUpperCase(Locale.ROOT);
      case "lower":
        return s.toLowerCase(Locale.ROOT);
      case "replace":
        return s.replace(str(a.get(0)), str(a.get(1)));
      case "split":
        {
          List<Object> out = new ArrayList<>();
          if (a.isEmpty() || a.get(0) == null) {
            for (String p : s.trim().split("\\s+")) if (!p.isEmpty()) out.add(p);
            return out;
          }
          String sep = str(a.get(0));
          int from = 0;
          while (true) {
            int k = s.indexOf(sep, from);
            if (k < 0) break;
            out.add(s.substring(from, k));
            from = k + sep.length();
          }
          out.add(s.substring(from));
          return out;
        }
      case "title":
        {
          StringBuilder sb = new StringBuilder();
          boolean up = true;
          for (char c : s.toCharArray()) {
            sb.append(up ? Character.toUpperCase(c) : Character.toLowerCase(c));
            up = !Character.isLetter(c);
          }
          return sb.toString();
        }
      default:
        throw new Jinja.TemplateException("string has no method " + name + "()");
    }
  }

  private static boolean in(char c, List<Object> a) {
    return a.isEmpty() || a.get(0) == null
        ? Character.isWhitespace(c)
        : str(a.get(0)).indexOf(c) >= 0;
  }

  private static String lstrip(String s, List<Object> a) {
    int i = 0;
    while (i < s.length() && in(s.charAt(i), a)) i++;
    return s.substring(i);
  }

  private static String rstrip(String s, List<Object> a) {
    int i = s.length();
    while (i > 0 && in(s.charAt(i - 1), a)) i--;
    return s.substring(0, i);
  }

  static Object filter(String name, Object v, List<Object> a, Map<String, Object> kw) {
    switch (name) {
      case "length":
      case "count":
        if (v instanceof String s) return (long) s.length();
        if (v instanceof Collection<?> c) return (long) c.size();
        if (v instanceof Map<?, ?> m) return (long) m.size();
        throw new Jinja.TemplateException("length of " + type(v));
      case "trim":
        return str(v).strip();
      case "upper":
        return str(v).toUpperCase(Locale.ROOT);
      case "lower":
        return str(v).toLowerCase(Locale.ROOT);
      case "string":
        return str(v);
      case "int":
        return v instanceof Number n
            ? (Object) n.longValue()
            : (Object) Long.parseLong(str(v).trim());
      case "first":
        return item(v, 0L);
      case "last":
        return item(v, -1L);
      case "list":
        return iterate(v);
      case "reverse":
        return slice(v instanceof String ? v : iterate(v), null, null, -1L);
      case "join":
        {
          List<String> parts = new ArrayList<>();
          for (Object o : iterate(v)) parts.add(str(o));
          return String.join(a.isEmpty() ? "" : str(a.get(0)), parts);
        }
      case "default":
      case "d":
        {
          boolean falsy = a.size() > 1 && truthy(a.get(1));
          return v == UNDEFINED || (falsy && !truthy(v)) ? (a.isEmpty() ? "" : a.get(0)) : v;
        }
      case "tojson":
        {
          Object indent =
              kw.containsKey("indent") ? kw.get("indent") : (a.isEmpty() ? null : a.get(0));
          return Json.dumps(v, indent == null ? -1 : (int) (long) (Long) number(indent), 0);
        }
      case "items":
        return method(v, "items", a);
      default:
        throw new Jinja.TemplateException("the filter '" + name + "' is not implemented");
    }
  }

  static boolean test(String name, Object v, List<Object> a) {
    switch (name) {
      case "defined":
        return v != UNDEFINED;
      case "undefined":
        return v == UNDEFINED;
      case "none":
        return v == null;
      case "string":
        return v instanceof String;
      case "number":
        return v instanceof Number;
      case "integer":
        return v instanceof Long || v instanceof Integer;
      case "boolean":
        return v instanceof Boolean;
      case "true":
        return Boolean.TRUE.equals(v);
      case "false":
        return Boolean.FALSE.equals(v);
      case "mapping":
        return v instanceof Map;
      case "sequence":
      case "iterable":
        return v instanceof List || v instanceof String || v instanceof Map;
      case "equalto":
      case "eq":
        return equal(number(v), number(a.get(0)));
      default:
        throw new Jinja.TemplateException("the test '" + name + "' is not implemented");
    }
  }

  @SuppressWarnings("unchecked")
  static List<Object> iterate(Object v) {
    if (v == UNDEFINED || v == null) return List.of();
    if (v instanceof List<?> l) return (List<Object>) l;
    if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
    if (v instanceof String s) {
      List<Object> out = new ArrayList<>();
      for (char c : s.toCharArray()) out.add(String.valueOf(c));
      return out;
    }
    throw new Jinja.TemplateException("cannot loop over " + type(v));
  }

  /** Python's {@code json.dumps(…, ensure_ascii=False)}, as transformers' {@code tojson} does. */
  static final class Json {
    private Json() {}

    static String dumps(Object v, int indent, int depth) {
      if (v == null || v == UNDEFINED) return "null";
      if (v instanceof Boolean b) return b ? "true" : "false";
      if (v instanceof Double d) return str(d);
      if (v instanceof Number n) return Long.toString(n.longValue());
      if (v instanceof String s) return quote(s);
      String nl = indent < 0 ? "" : "\n" + " ".repeat(indent * (depth + 1));
      String close = indent < 0 ? "" : "\n" + " ".repeat(indent * depth);
      String sep = indent < 0 ? ", " : ",";
      if (v instanceof List<?> l) {
        if (l.isEmpty()) return "[]";
        List<String> parts = new ArrayList<>();
        for (Object o : l) parts.add(nl + dumps(o, indent, depth + 1));
        return "[" + String.join(sep, parts) + close + "]";
      }
      if (v instanceof Map<?, ?> m) {
        if (m.isEmpty()) return "{}";
        List<String> parts = new ArrayList<>();
        m.forEach((k, x) -> parts.add(nl + quote(str(k)) + ": " + dumps(x, indent, depth + 1)));
        return "{" + String.join(sep, parts) + close + "}";
      }
      return quote(v.toString());
    }

    private static String quote(String s) {
      StringBuilder sb = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          default -> {
            if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
          }
        }
      }
      return sb.append('"').toString();
    }
  }
}

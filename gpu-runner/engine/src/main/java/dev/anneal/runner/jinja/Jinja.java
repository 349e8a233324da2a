package dev.anneal.runner.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Jinja subset Hugging Face chat templates are written in, rendered the way transformers
 * renders them ({@code trim_blocks} and {@code lstrip_blocks} on, {@code -} whitespace control,
 * {@code raise_exception}): {@code if / elif / else}, {@code for} with {@code loop.index0 / index /
 * first / last / length} and {@code else}, {@code set} (of a name or a namespace's attribute),
 * expressions with Python's semantics (strings, numbers, lists, dicts, {@code none}, slices such as
 * {@code [::-1]}, string methods, {@code namespace(…)}), filters and tests. What it does not know
 * is an error naming it and its line, never output that differs silently.
 */
public final class Jinja {

  /** A template that cannot be parsed or rendered: the message names the construct and line. */
  public static final class TemplateException extends RuntimeException {
    public TemplateException(String message) {
      super(message);
    }
  }

  private final List<Node> body;

  private Jinja(List<Node> body) {
    this.body = body;
  }

  public static Jinja compile(String source) {
    return new Jinja(new Parser(Lexer.segments(source)).parseBody());
  }

  /** Renders with {@code context}'s variables (maps, lists, strings, numbers, booleans, null). */
  public String render(Map<String, Object> context) {
    Map<String, Object> scope = new HashMap<>(context);
    scope.putIfAbsent(
        "raise_exception",
        (Values.Callable)
            (args, kwargs) -> {
              throw new TemplateException(
                  "the template raised: " + (args.isEmpty() ? "" : Values.str(args.get(0))));
            });
    scope.putIfAbsent(
        "namespace", (Values.Callable) (args, kwargs) -> new Values.Namespace(kwargs));
    StringBuilder out = new StringBuilder();
    Node.run(body, new Node.Frame(scope), out);
    return out.toString();
  }

  /** A tag or text of the source, after whitespace control. */
  record Segment(Kind kind, String text, int line) {
    enum Kind {
      TEXT,
      PRINT,
      BLOCK
    }
  }

  /** Splits the source into text, {@code {{ … }}} and {@code {% … %}}, comments dropped. */
  static final class Lexer {
    private Lexer() {}

    static List<Segment> segments(String src) {
      List<Segment> out = new ArrayList<>();
      int i = 0;
      int line = 1;
      boolean trimNext = false; // a '-' before the last tag's close
      boolean afterBlock = false; // trim_blocks: the newline after a block tag goes
      while (i < src.length()) {
        int open = nextOpen(src, i);
        String text = src.substring(i, open < 0 ? src.length() : open);
        if (afterBlock && text.startsWith("\n")) text = text.substring(1);
        else if (afterBlock && text.startsWith("\r\n")) text = text.substring(2);
        if (trimNext) text = stripLeading(text);
        if (open < 0) {
          add(out, text, line);
          break;
        }
        char kind = src.charAt(open + 1);
        boolean minus = open + 2 < src.length() && src.charAt(open + 2) == '-';
        boolean plus = open + 2 < src.length() && src.charAt(open + 2) == '+';
        if (minus) {
          text = stripTrailing(text);
        } else if (kind != '{' && !plus) {
          // lstrip_blocks: spaces and tabs from the line's start to a block or comment tag
          int nl = text.lastIndexOf('\n');
          String tail = text.substring(nl + 1);
          if (tail.chars().allMatch(c -> c == ' ' || c == '\t') && lineStartBefore(src, open)) {
            text = text.substring(0, nl + 1);
          }
        }
        add(out, text, line);
        line += count(src.substring(i, open), '\n');
        String close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
        int end = src.indexOf(close, open + 2);
        if (end < 0) {
          throw new TemplateException(
              "line " + line + ": '" + src.substring(open, open + 2) + "' is never closed");
        }
        int innerStart = open + 2 + (minus || plus ? 1 : 0);
        trimNext = end > innerStart && src.charAt(end - 1) == '-';
        String inner = src.substring(innerStart, trimNext ? end - 1 : end).trim();
        if (kind == '{') out.add(new Segment(Segment.Kind.PRINT, inner, line));
        else if (kind == '%') out.add(new Segment(Segment.Kind.BLOCK, inner, line));
        afterBlock = kind != '{';
        line += count(src.substring(open, end), '\n');
        i = end + 2;
      }
      return out;
    }

    private static boolean lineStartBefore(String src, int open) {
      int j = open - 1;
      while (j >= 0 && (src.charAt(j) == ' ' || src.charAt(j) == '\t')) j--;
      return j < 0 || src.charAt(j) == '\n';
    }

    private static void add(List<Segment> out, String text, int line) {
      if (!text.isEmpty()) out.add(new Segment(Segment.Kind.TEXT, text, line));
    }

    private static int nextOpen(String src, int from) {
      int best = -1;
      for (String o : new String[] {"{{", "{%", "{#"}) {
        int k = src.indexOf(o, from);
        if (k >= 0 && (best < 0 || k < best)) best = k;
      }
      return best;
    }

    private static int count(String s, char c) {
      int n = 0;
      for (int k = 0; k < s.length(); k++) if (s.charAt(k) == c) n++;
      return n;
    }

    private static String stripLeading(String s) {
      int k = 0;
      while (k < s.length() && Character.isWhitespace(s.charAt(k))) k++;
      return s.substring(k);
    }

    private static String stripTrailing(String s) {
      int k = s.length();
      while (k > 0 && Character.isWhitespace(s.charAt(k - 1))) k--;
      return s.substring(0, k);
    }
  }
}

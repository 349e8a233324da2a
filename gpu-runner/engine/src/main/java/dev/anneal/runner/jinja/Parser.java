package dev.anneal.runner.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Parses segments into statements, and each tag's text into an expression (precedence climbing).
 */
final class Parser {

  private final List<Jinja.Segment> segments;
  private int at;

  // the current tag's tokens
  private List<String> toks;
  private int pos;
  private int line;

  Parser(List<Jinja.Segment> segments) {
    this.segments = segments;
  }

  List<Node> parseBody() {
    List<Node> body = parseUntil(Set.of());
    return body;
  }

  /** Statements until a block tag whose first word is in {@code ends} (left unconsumed). */
  private List<Node> parseUntil(Set<String> ends) {
    List<Node> out = new ArrayList<>();
    while (at < segments.size()) {
      Jinja.Segment s = segments.get(at);
      switch (s.kind()) {
        case TEXT -> {
          out.add(new Node.Text(s.text()));
          at++;
        }
        case PRINT -> {
          start(s);
          out.add(new Node.Print(expression()));
          end();
          at++;
        }
        case BLOCK -> {
          start(s);
          String word = toks.isEmpty() ? "" : toks.get(0);
          if (ends.contains(word)) return out;
          at++;
          pos = 1;
          switch (word) {
            case "if" -> out.add(ifBlock());
            case "for" -> out.add(forBlock());
            case "set" -> out.add(setStatement());
            case "break" -> {
              end();
              out.add(new Node.Break());
            }
            case "continue" -> {
              end();
              out.add(new Node.Continue());
            }
            case "generation" -> {
              // transformers' {% generation %} marks the assistant's tokens; it renders its body
              end();
              out.addAll(parseUntil(Set.of("endgeneration")));
              at++;
            }
            default -> throw error("'" + word + "' is not a statement this renderer knows");
          }
        }
      }
    }
    if (!ends.isEmpty()) {
      throw new Jinja.TemplateException(
          "the template ends before {% " + String.join(" / ", ends) + " %}");
    }
    return out;
  }

  private Node ifBlock() {
    List<Expr> conditions = new ArrayList<>();
    List<List<Node>> bodies = new ArrayList<>();
    conditions.add(expression());
    end();
    List<Node> otherwise = List.of();
    while (true) {
      bodies.add(parseUntil(Set.of("elif", "else", "endif")));
      String word = current();
      at++;
      if (word.equals("elif")) {
        pos = 1;
        conditions.add(expression());
        end();
      } else if (word.equals("else")) {
        pos = 1;
        end();
        otherwise = parseUntil(Set.of("endif"));
        start(segments.get(at));
        at++;
        break;
      } else {
        break;
      }
    }
    return new Node.If(conditions, bodies, otherwise);
  }

  private Node forBlock() {
    List<String> targets = new ArrayList<>();
    targets.add(name());
    while (peek(",")) {
      pos++;
      targets.add(name());
    }
    expect("in");
    Expr iterable = orExpr();
    Expr filter = null;
    if (peek("if")) {
      pos++;
      filter = expression();
    }
    end();
    List<Node> body = parseUntil(Set.of("else", "endfor"));
    List<Node> otherwise = List.of();
    if (current().equals("else")) {
      at++;
      otherwise = parseUntil(Set.of("endfor"));
    }
    at++;
    return new Node.For(targets, iterable, filter, body, otherwise);
  }

  private Node setStatement() {
    String name = name();
    String attribute = null;
    if (peek(".")) {
      pos++;
      attribute = name();
    }
    expect("=");
    Expr value = expression();
    end();
    return new Node.Set(name, attribute, value);
  }

  private String current() {
    start(segments.get(at));
    return toks.isEmpty() ? "" : toks.get(0);
  }

  // --- expressions ---

  private Expr expression() {
    Expr e = orExpr();
    if (peek("if")) {
      pos++;
      Expr cond = orExpr();
      Expr otherwise = null;
      if (peek("else")) {
        pos++;
        otherwise = expression();
      }
      return new Expr.Conditional(e, cond, otherwise);
    }
    return e;
  }

  private Expr orExpr() {
    return leftAssociative(this::andExpr, "or");
  }

  private Expr andExpr() {
    return leftAssociative(this::notExpr, "and");
  }

  /** {@code next (op next)*}, grouped from the left as Python groups its binary operators. */
  private Expr leftAssociative(Supplier<Expr> next, String... ops) {
    Expr e = next.get();
    while (true) {
      String op = null;
      for (String o : ops) if (peek(o)) op = o;
      if (op == null) return e;
      pos++;
      e = new Expr.Binary(op, e, next.get());
    }
  }

  private Expr notExpr() {
    if (peek("not")) {
      pos++;
      return new Expr.Not(notExpr());
    }
    return comparison();
  }

  private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "if", "else", "in", "is");

  private static final Set<String> COMPARE = Set.of("==", "!=", "<", "<=", ">", ">=");

  private Expr comparison() {
    Expr e = concat();
    while (true) {
      if (pos < toks.size() && COMPARE.contains(toks.get(pos))) {
        String op = toks.get(pos++);
        e = new Expr.Binary(op, e, concat());
      } else if (peek("in")) {
        pos++;
        e = new Expr.Binary("in", e, concat());
      } else if (peek("not") && pos + 1 < toks.size() && toks.get(pos + 1).equals("in")) {
        pos += 2;
        e = new Expr.Not(new Expr.Binary("in", e, concat()));
      } else if (peek("is")) {
        pos++;
        boolean negated = false;
        if (peek("not")) {
          pos++;
          negated = true;
        }
        String test = name();
        List<Expr> args = new ArrayList<>();
        if (peek("(")) {
          args = callArgs(new LinkedHashMap<>());
        } else if (pos < toks.size()
            && startsPrimary(toks.get(pos))
            && !KEYWORDS.contains(toks.get(pos))) {
          args.add(primary());
        }
        e = new Expr.Test(e, test, negated, args);
      } else {
        return e;
      }
    }
  }

  private Expr concat() {
    return leftAssociative(this::sum, "~");
  }

  private Expr sum() {
    return leftAssociative(this::product, "+", "-");
  }

  private Expr product() {
    return leftAssociative(this::unary, "*", "/", "%", "//");
  }

  private Expr unary() {
    if (peek("-")) {
      pos++;
      return new Expr.Negate(unary());
    }
    Expr e = postfix(primary());
    while (peek("|")) {
      pos++;
      String filter = name();
      Map<String, Expr> kwargs = new LinkedHashMap<>();
      List<Expr> args = peek("(") ? callArgs(kwargs) : List.of();
      e = postfix(new Expr.Filter(e, filter, args, kwargs));
    }
    return e;
  }

  private Expr postfix(Expr e) {
    while (true) {
      if (peek(".")) {
        pos++;
        e = new Expr.Attr(e, name());
      } else if (peek("[")) {
        pos++;
        Expr a = null;
        Expr b = null;
        Expr c = null;
        if (!peek(":")) a = expression();
        if (peek(":")) {
          pos++;
          if (!peek(":") && !peek("]")) b = expression();
          if (peek(":")) {
            pos++;
            if (!peek("]")) c = expression();
          }
          expect("]");
          e = new Expr.Slice(e, a, b, c);
        } else {
          expect("]");
          e = new Expr.Item(e, a);
        }
      } else if (peek("(")) {
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        List<Expr> args = callArgs(kwargs);
        e = new Expr.Call(e, args, kwargs);
      } else {
        return e;
      }
    }
  }

  private List<Expr> callArgs(Map<String, Expr> kwargs) {
    expect("(");
    List<Expr> args = new ArrayList<>();
    while (!peek(")")) {
      if (pos + 1 < toks.size() && isName(toks.get(pos)) && toks.get(pos + 1).equals("=")) {
        String k = toks.get(pos);
        pos += 2;
        kwargs.put(k, expression());
      } else {
        args.add(expression());
      }
      if (peek(",")) pos++;
      else break;
    }
    expect(")");
    return args;
  }

  private static boolean startsPrimary(String t) {
    return t.startsWith("'") || t.startsWith("\"") || Character.isDigit(t.charAt(0)) || isName(t);
  }

  private Expr primary() {
    if (pos >= toks.size()) throw error("an expression ends too early");
    String t = toks.get(pos++);
    if (t.startsWith("'") || t.startsWith("\"")) return new Expr.Literal(unquote(t));
    if (Character.isDigit(t.charAt(0))) {
      return new Expr.Literal(
          t.contains(".") ? (Object) Double.parseDouble(t) : (Object) Long.parseLong(t));
    }
    switch (t) {
      case "(" -> {
        Expr e = expression();
        if (peek(",")) { // a tuple
          List<Expr> items = new ArrayList<>(List.of(e));
          while (peek(",")) {
            pos++;
            if (peek(")")) break;
            items.add(expression());
          }
          expect(")");
          return new Expr.ListOf(items);
        }
        expect(")");
        return e;
      }
      case "[" -> {
        List<Expr> items = new ArrayList<>();
        while (!peek("]")) {
          items.add(expression());
          if (peek(",")) pos++;
          else break;
        }
        expect("]");
        return new Expr.ListOf(items);
      }
      case "{" -> {
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!peek("}")) {
          keys.add(expression());
          expect(":");
          values.add(expression());
          if (peek(",")) pos++;
          else break;
        }
        expect("}");
        return new Expr.DictOf(keys, values);
      }
      case "true", "True" -> {
        return new Expr.Literal(Boolean.TRUE);
      }
      case "false", "False" -> {
        return new Expr.Literal(Boolean.FALSE);
      }
      case "none", "None" -> {
        return new Expr.Literal(null);
      }
      default -> {
        if (!isName(t)) throw error("unexpected '" + t + "'");
        return new Expr.Var(t);
      }
    }
  }

  // --- tokens ---

  private void start(Jinja.Segment s) {
    toks = tokens(s.text(), s.line());
    pos = 0;
    line = s.line();
  }

  private void end() {
    if (pos != toks.size()) throw error("unexpected '" + toks.get(pos) + "'");
  }

  private boolean peek(String t) {
    return pos < toks.size() && toks.get(pos).equals(t);
  }

  private void expect(String t) {
    if (!peek(t))
      throw error(
          "expected '" + t + "'" + (pos < toks.size() ? ", got '" + toks.get(pos) + "'" : ""));
    pos++;
  }

  private String name() {
    if (pos >= toks.size() || !isName(toks.get(pos))) throw error("expected a name");
    return toks.get(pos++);
  }

  private static boolean isName(String t) {
    return !t.isEmpty() && (Character.isLetter(t.charAt(0)) || t.charAt(0) == '_');
  }

  private Jinja.TemplateException error(String what) {
    return new Jinja.TemplateException(
        "line " + line + ": " + what + " in '" + String.join(" ", toks) + "'");
  }

  private static final List<String> OPERATORS =
      List.of(
          "==", "!=", "<=", ">=", "//", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "+", "-",
          "*", "/", "%", "~", "<", ">", "=");

  static List<String> tokens(String s, int line) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '\'' || c == '"') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) j += s.charAt(j) == '\\' ? 2 : 1;
        if (j >= s.length())
          throw new Jinja.TemplateException("line " + line + ": a string is never closed");
        out.add(s.substring(i, j + 1));
        i = j + 1;
      } else if (Character.isDigit(c)) {
        int j = i;
        while (j < s.length()
            && (Character.isDigit(s.charAt(j))
                || s.charAt(j) == '.' && j + 1 < s.length() && Character.isDigit(s.charAt(j + 1))))
          j++;
        out.add(s.substring(i, j));
        i = j;
      } else if (Character.isLetter(c) || c == '_') {
        int j = i;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_'))
          j++;
        out.add(s.substring(i, j));
        i = j;
      } else {
        String op = null;
        for (String o : OPERATORS) {
          if (s.startsWith(o, i)) {
            op = o;
            break;
          }
        }
        if (op == null)
          throw new Jinja.TemplateException("line " + line + ": unexpected '" + c + "'");
        out.add(op);
        i += op.length();
      }
    }
    return out;
  }

  /** A Python string literal's value. */
  static String unquote(String t) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < t.length() - 1; i++) {
      char c = t.charAt(i);
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char n = t.charAt(++i);
      switch (n) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case '\\', '\'', '"' -> sb.append(n);
        default -> sb.append('\\').append(n);
      }
    }
    return sb.toString();
  }
}

package dev.anneal.runner.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An expression of the template, evaluated with Python's semantics ({@link Values}). */
sealed interface Expr {

  Object eval(Node.Frame f);

  record Literal(Object value) implements Expr {
    public Object eval(Node.Frame f) {
      return value;
    }
  }

  record Var(String name) implements Expr {
    public Object eval(Node.Frame f) {
      return f.get(name);
    }
  }

  record ListOf(List<Expr> items) implements Expr {
    public Object eval(Node.Frame f) {
      List<Object> out = new ArrayList<>();
      for (Expr e : items) out.add(e.eval(f));
      return out;
    }
  }

  record DictOf(List<Expr> keys, List<Expr> values) implements Expr {
    public Object eval(Node.Frame f) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < keys.size(); i++) {
        out.put(Values.str(keys.get(i).eval(f)), values.get(i).eval(f));
      }
      return out;
    }
  }

  /** {@code a.b}, and {@code a['b']} / {@code a[0]}. */
  record Attr(Expr target, String name) implements Expr {
    public Object eval(Node.Frame f) {
      return Values.attribute(target.eval(f), name);
    }
  }

  record Item(Expr target, Expr index) implements Expr {
    public Object eval(Node.Frame f) {
      return Values.item(target.eval(f), index.eval(f));
    }
  }

  record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {
    public Object eval(Node.Frame f) {
      return Values.slice(
          target.eval(f),
          start == null ? null : start.eval(f),
          stop == null ? null : stop.eval(f),
          step == null ? null : step.eval(f));
    }
  }

  /** A call: a function of the context, or a method of a value ({@code s.startswith('x')}). */
  record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    public Object eval(Node.Frame f) {
      List<Object> a = new ArrayList<>();
      for (Expr e : args) a.add(e.eval(f));
      Map<String, Object> k = new LinkedHashMap<>();
      kwargs.forEach((n, e) -> k.put(n, e.eval(f)));
      if (callee instanceof Attr m) {
        Object self = m.target().eval(f);
        Object fn = Values.attribute(self, m.name());
        if (fn instanceof Values.Callable c) return c.call(a, k);
        return Values.method(self, m.name(), a);
      }
      Object fn = callee.eval(f);
      if (fn instanceof Values.Callable c) return c.call(a, k);
      throw new Jinja.TemplateException(callee + " is not callable");
    }
  }

  record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs)
      implements Expr {
    public Object eval(Node.Frame f) {
      List<Object> a = new ArrayList<>();
      for (Expr e : args) a.add(e.eval(f));
      Map<String, Object> k = new LinkedHashMap<>();
      kwargs.forEach((n, e) -> k.put(n, e.eval(f)));
      return Values.filter(name, value.eval(f), a, k);
    }
  }

  record Test(Expr value, String name, boolean negated, List<Expr> args) implements Expr {
    public Object eval(Node.Frame f) {
      List<Object> a = new ArrayList<>();
      for (Expr e : args) a.add(e.eval(f));
      return negated != Values.test(name, value.eval(f), a);
    }
  }

  record Not(Expr value) implements Expr {
    public Object eval(Node.Frame f) {
      return !Values.truthy(value.eval(f));
    }
  }

  record Negate(Expr value) implements Expr {
    public Object eval(Node.Frame f) {
      return Values.binary("-", 0L, value.eval(f));
    }
  }

  /** {@code and} / {@code or} return an operand, as in Python; the rest go to {@link Values}. */
  record Binary(String op, Expr left, Expr right) implements Expr {
    public Object eval(Node.Frame f) {
      Object l = left.eval(f);
      if (op.equals("and")) return Values.truthy(l) ? right.eval(f) : l;
      if (op.equals("or")) return Values.truthy(l) ? l : right.eval(f);
      return Values.binary(op, l, right.eval(f));
    }
  }

  record Conditional(Expr then, Expr condition, Expr otherwise) implements Expr {
    public Object eval(Node.Frame f) {
      if (Values.truthy(condition.eval(f))) return then.eval(f);
      return otherwise == null ? Values.UNDEFINED : otherwise.eval(f);
    }
  }
}

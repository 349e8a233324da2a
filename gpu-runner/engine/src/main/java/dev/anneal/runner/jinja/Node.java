package dev.anneal.runner.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The template's statements, and how they run. */
sealed interface Node {

  /** Variables: a for loop's body sees its own, then the enclosing ones. */
  final class Frame {
    final Map<String, Object> vars;
    final Frame parent;

    Frame(Map<String, Object> vars) {
      this(vars, null);
    }

    Frame(Map<String, Object> vars, Frame parent) {
      this.vars = vars;
      this.parent = parent;
    }

    Object get(String name) {
      for (Frame f = this; f != null; f = f.parent) {
        if (f.vars.containsKey(name)) return f.vars.get(name);
      }
      return Values.UNDEFINED;
    }
  }

  record Text(String text) implements Node {}

  record Print(Expr expr) implements Node {}

  record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> otherwise) implements Node {}

  record For(
      List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise)
      implements Node {}

  /** {@code break} and {@code continue} (jinja2's loopcontrols, which transformers enables). */
  record Break() implements Node {}

  record Continue() implements Node {}

  /** How a break or continue leaves the statements of a loop's body. */
  final class LoopControl extends RuntimeException {
    final boolean isBreak;

    LoopControl(boolean isBreak) {
      super(null, null, false, false);
      this.isBreak = isBreak;
    }
  }

  /** {@code set name = …} or {@code set ns.attr = …}. */
  record Set(String name, String attribute, Expr value) implements Node {}

  static void run(List<Node> nodes, Frame f, StringBuilder out) {
    for (Node n : nodes) n.exec(f, out);
  }

  default void exec(Frame f, StringBuilder out) {
    if (this instanceof Text t) {
      out.append(t.text());
    } else if (this instanceof Print p) {
      out.append(Values.str(p.expr().eval(f)));
    } else if (this instanceof If i) {
      {
        for (int k = 0; k < i.conditions().size(); k++) {
          if (Values.truthy(i.conditions().get(k).eval(f))) {
            run(i.bodies().get(k), f, out);
            return;
          }
        }
        run(i.otherwise(), f, out);
      }
    } else if (this instanceof For l) {
      {
        List<Object> items = new ArrayList<>(Values.iterate(l.iterable().eval(f)));
        if (l.filter() != null) {
          List<Object> kept = new ArrayList<>();
          for (Object item : items) {
            Frame probe = new Frame(bind(l.targets(), item), f);
            if (Values.truthy(l.filter().eval(probe))) kept.add(item);
          }
          items = kept;
        }
        if (items.isEmpty()) {
          run(l.otherwise(), f, out);
          return;
        }
        for (int k = 0; k < items.size(); k++) {
          Map<String, Object> vars = bind(l.targets(), items.get(k));
          Map<String, Object> loop = new LinkedHashMap<>();
          loop.put("index0", (long) k);
          loop.put("index", (long) k + 1);
          loop.put("revindex0", (long) (items.size() - 1 - k));
          loop.put("revindex", (long) (items.size() - k));
          loop.put("first", k == 0);
          loop.put("last", k == items.size() - 1);
          loop.put("length", (long) items.size());
          loop.put("previtem", k > 0 ? items.get(k - 1) : Values.UNDEFINED);
          loop.put("nextitem", k + 1 < items.size() ? items.get(k + 1) : Values.UNDEFINED);
          vars.put("loop", loop);
          // jinja2: a set inside a loop does not outlive the iteration
          try {
            run(l.body(), new Frame(vars, f), out);
          } catch (LoopControl c) {
            if (c.isBreak) break;
          }
        }
      }
    } else if (this instanceof Break) {
      throw new LoopControl(true);
    } else if (this instanceof Continue) {
      throw new LoopControl(false);
    } else if (this instanceof Set s) {
      {
        Object v = s.value().eval(f);
        if (s.attribute() == null) {
          f.vars.put(s.name(), v);
        } else if (f.get(s.name()) instanceof Values.Namespace ns) {
          ns.put(s.attribute(), v);
        } else {
          throw new Jinja.TemplateException(
              "set " + s.name() + "." + s.attribute() + ": " + s.name() + " is not a namespace");
        }
      }
    }
  }

  private static Map<String, Object> bind(List<String> targets, Object item) {
    Map<String, Object> vars = new HashMap<>();
    if (targets.size() == 1) {
      vars.put(targets.get(0), item);
    } else {
      List<Object> parts = Values.iterate(item);
      if (parts.size() != targets.size()) {
        throw new Jinja.TemplateException(
            "for " + String.join(", ", targets) + ": cannot unpack " + parts.size() + " values");
      }
      for (int k = 0; k < targets.size(); k++) vars.put(targets.get(k), parts.get(k));
    }
    return vars;
  }
}

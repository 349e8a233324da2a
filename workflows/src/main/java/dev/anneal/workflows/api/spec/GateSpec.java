package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;

/**
 * An evaluation gate after a stage: the named eval figure must lie in [min, max]; otherwise the
 * pipeline stops ({@code onFail: stop}) or waits for a person's approve signal ({@code approve}).
 */
public record GateSpec(String metric, Double min, Double max, String onFail) {
  public GateSpec {
    Checks.text("metric", metric);
    onFail = Checks.orDefault(onFail, "stop");
    if (!onFail.equals("stop") && !onFail.equals("approve")) {
      throw new IllegalArgumentException(
          "onFail: must be 'stop' or 'approve', got '" + onFail + "'");
    }
    if (min == null && max == null) {
      throw new IllegalArgumentException("min: a gate needs min, max or both");
    }
    if (min != null && max != null && min > max) {
      throw new IllegalArgumentException("min: must be <= max (" + max + "), got " + min);
    }
  }

  /** The bounds for a person: "must be <= 2.0", "must be in [0.5, 1.0]". */
  public String bounds() {
    if (min != null && max != null) {
      return "must be in [" + min + ", " + max + "]";
    }
    return min != null ? "must be >= " + min : "must be <= " + max;
  }

  public boolean passes(double value) {
    return Double.isFinite(value) && (min == null || value >= min) && (max == null || value <= max);
  }
}

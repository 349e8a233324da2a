package dev.anneal.platform.chaos;

import dev.anneal.platform.chaos.RunRecord.Attempt;
import dev.anneal.platform.chaos.RunRecord.Point;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The steps that survive into the final model: the final attempt from the step it resumed at, then
 * the attempt that wrote that checkpoint up to there, and so on back to step 0 — and what that says
 * about the run's effective training time and its integrity.
 */
final class Lineage {

  /** Steps {@code [from, to)} of one attempt survive. */
  record Segment(int attempt, long from, long to) {}

  private final RunRecord run;
  private final List<Segment> segments = new ArrayList<>();
  private final Map<Integer, Duration> medianStep = new HashMap<>();

  Lineage(RunRecord run) {
    this.run = run;
    Map<Integer, Attempt> byNumber = new HashMap<>();
    run.attempts().forEach(a -> byNumber.put(a.number(), a));
    Attempt last =
        run.attempts().stream()
            .filter(a -> a.status().equals("SUCCEEDED"))
            .reduce((a, b) -> b)
            .orElse(null);
    if (last != null) {
      List<Point> pts = run.losses().getOrDefault(last.number(), List.of());
      long to = pts.isEmpty() ? 0 : pts.get(pts.size() - 1).step() + 1;
      for (Attempt a = last; a != null; ) {
        long from = a.resumeStep() == null ? 0 : a.resumeStep();
        segments.add(new Segment(a.number(), from, to));
        to = from;
        a = a.resumeAttempt() == null || from == 0 ? null : byNumber.get(a.resumeAttempt());
      }
      Collections.reverse(segments);
    }
    for (var e : run.losses().entrySet()) medianStep.put(e.getKey(), median(e.getValue()));
  }

  List<Segment> segments() {
    return segments;
  }

  /** The final model's step count (0 if the stage did not succeed). */
  long finalSteps() {
    return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).to();
  }

  boolean survives(int attempt, long step) {
    for (Segment s : segments) {
      if (s.attempt() == attempt && step >= s.from() && step < s.to()) return true;
    }
    return false;
  }

  /** Time spent on the steps that survive: each step's time since its attempt's previous one. */
  Duration effective() {
    Duration sum = Duration.ZERO;
    for (Segment s : segments) {
      Map<Long, Instant> at = firstTimes(s.attempt());
      for (long step = s.from(); step < s.to(); step++) {
        Instant t = at.get(step);
        Instant prev = at.get(step - 1);
        sum =
            sum.plus(
                t != null && prev != null
                    ? Duration.between(prev, t)
                    : medianStep.getOrDefault(s.attempt(), Duration.ZERO));
      }
    }
    return sum;
  }

  /** Steps an attempt ran that did not survive. */
  long lostSteps(int attempt) {
    return firstTimes(attempt).keySet().stream().filter(s -> !survives(attempt, s)).count();
  }

  /** When an attempt's last step was measured, or null. */
  Instant lastStepAt(int attempt) {
    List<Point> pts = run.losses().getOrDefault(attempt, List.of());
    return pts.stream().map(Point::at).max(Instant::compareTo).orElse(null);
  }

  /** The first surviving step measured after {@code t}, or null. */
  Instant firstSurvivingAfter(Instant t) {
    Instant best = null;
    for (Segment s : segments) {
      for (Point p : run.losses().getOrDefault(s.attempt(), List.of())) {
        if (p.at().isAfter(t)
            && survives(s.attempt(), p.step())
            && (best == null || p.at().isBefore(best))) {
          best = p.at();
        }
      }
    }
    return best;
  }

  /** The median time of one step over all stored points. */
  Duration medianStep() {
    List<Duration> d = new ArrayList<>();
    for (List<Point> pts : run.losses().values()) d.add(median(pts));
    Collections.sort(d);
    return d.isEmpty() ? Duration.ZERO : d.get(d.size() / 2);
  }

  /**
   * Integrity of the stored metrics: per attempt, each step once (no duplicates) and no step
   * missing between its first and last; and every surviving step stored. Empty when all holds.
   */
  List<String> metricProblems() {
    List<String> out = new ArrayList<>();
    for (var e : run.losses().entrySet()) {
      Map<Long, Integer> count = new LinkedHashMap<>();
      for (Point p : e.getValue()) count.merge(p.step(), 1, Integer::sum);
      long dups = count.values().stream().filter(c -> c > 1).count();
      long first = count.keySet().stream().min(Long::compare).orElse(0L);
      long last = count.keySet().stream().max(Long::compare).orElse(-1L);
      long gaps = (last - first + 1) - count.size();
      if (dups > 0) out.add("attempt " + e.getKey() + ": " + dups + " steps stored twice");
      if (gaps > 0) out.add("attempt " + e.getKey() + ": " + gaps + " steps missing");
    }
    for (Segment s : segments) {
      Map<Long, Instant> at = firstTimes(s.attempt());
      long missing = 0;
      for (long step = s.from(); step < s.to(); step++) if (!at.containsKey(step)) missing++;
      if (missing > 0) {
        out.add(
            "attempt "
                + s.attempt()
                + ": "
                + missing
                + " surviving steps with no metrics in ["
                + s.from()
                + ", "
                + s.to()
                + ")");
      }
    }
    return out;
  }

  private Map<Long, Instant> firstTimes(int attempt) {
    Map<Long, Instant> at = new HashMap<>();
    for (Point p : run.losses().getOrDefault(attempt, List.of())) at.putIfAbsent(p.step(), p.at());
    return at;
  }

  private static Duration median(List<Point> pts) {
    List<Duration> d = new ArrayList<>();
    for (int i = 1; i < pts.size(); i++) {
      if (pts.get(i).step() == pts.get(i - 1).step() + 1) {
        d.add(Duration.between(pts.get(i - 1).at(), pts.get(i).at()));
      }
    }
    Collections.sort(d);
    return d.isEmpty() ? Duration.ZERO : d.get(d.size() / 2);
  }
}

package dev.anneal.protocol;

import java.util.List;

/** A batch of events from one attempt, as posted to the platform's ingestion endpoint. */
public record EventBatch(
    String team, String pipeline, StageKind stage, int attempt, List<RunnerEvent> events) {
  public EventBatch {
    ObjectKeys.segment("team", team);
    ObjectKeys.segment("pipeline", pipeline);
    Checks.present("stage", stage);
    Checks.positive("attempt", attempt);
    events = List.copyOf(Checks.present("events", events));
    for (int i = 1; i < events.size(); i++) {
      if (events.get(i).seq() <= events.get(i - 1).seq()) {
        throw new IllegalArgumentException(
            "events["
                + i
                + "].seq: must increase, got "
                + events.get(i).seq()
                + " after "
                + events.get(i - 1).seq());
      }
    }
  }
}

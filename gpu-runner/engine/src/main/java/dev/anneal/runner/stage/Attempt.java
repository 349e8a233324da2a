package dev.anneal.runner.stage;

import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;

/** What every part of a stage run reads: the spec, its model's shape, the store, the event log. */
record Attempt(RunSpec spec, ModelShape shape, BlobStore store, EventLog events) {

  int seqLen() {
    return spec.training().seqLen();
  }
}

package dev.anneal.runner.data;

/**
 * Where a trainer's batches come from: a pure function of (step, data batch index), so a resumed
 * run reads exactly the batches the interrupted one would have, and a skip window moves the data
 * index past the offending batches. Data indices from {@link #EVAL_DATA_INDEX} on are evaluation
 * batches no training step reads.
 */
public interface BatchSource {

  long EVAL_DATA_INDEX = 1L << 50;

  Sampler.Batch batch(long step, long dataIndex, int rows, int seqLen);
}

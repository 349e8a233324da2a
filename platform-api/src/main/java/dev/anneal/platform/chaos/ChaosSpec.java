package dev.anneal.platform.chaos;

/**
 * The benchmark's pipeline: one pre-training stage of the micro model, checkpointing every {@code
 * every} steps, with on-demand spikes and NaNs, a rollback to the newest healthy checkpoint before
 * an anomaly, and budgets no storm of this length spends.
 */
record ChaosSpec(String name, long steps, int every) {

  String yaml() {
    return """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: %s}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets: [{name: prose, source: "synthetic:prose?docs=2000"}]
        stages:
          - kind: pretrain
            data: [{dataset: prose}]
            hyperparameters: {steps: %d, batchSize: 8, seqLen: 32, lr: 0.002}
            checkpoint: {everySteps: %d, keepLast: 8}
            stability: {rollback: {steps: 0}, skipBatches: 20, lrFactor: 1.0, maxRestarts: 500, maxRollbacks: 200}
            inject: {onDemand: true, spikeSteps: 10, spikeLrMultiplier: 300}
        """
        .formatted(name, steps, every);
  }
}

package dev.anneal.platform.chaos;

/** The faults of the chaos benchmark, each as it happens in production. */
enum FaultKind {
  /** The runner's process dies (SIGKILL): a lost node, an out-of-memory kill. */
  RUNNER_KILL("runner SIGKILL"),
  /** {@code anneal serve} dies (SIGKILL) and is started again on the same data dir and ports. */
  PLATFORM_KILL("platform SIGKILL + restart"),
  /**
   * The platform's JVM is stopped cleanly (SIGTERM to it alone) and started again: on the embedded
   * stack this is the worker restart, since the workers live in that JVM.
   */
  WORKER_RESTART("worker restart (SIGTERM + start)"),
  /** Every connection to S3 is refused or reset for {@code --s3-outage} seconds (30). */
  S3_OUTAGE("S3 unreachable"),
  /** PostgreSQL fast shutdown, a pause, and a start on the same data dir. */
  POSTGRES_RESTART("PostgreSQL restart"),
  /** The newest checkpoint's weights are overwritten with garbage, then the runner is killed. */
  CORRUPT_CHECKPOINT("corrupt newest checkpoint + runner SIGKILL"),
  /** A learning-rate spike (x300 for 10 steps): the detector must roll back. */
  SPIKE("loss spike"),
  /** A NaN loss: the detector must roll back. */
  NAN("NaN loss");

  final String label;

  FaultKind(String label) {
    this.label = label;
  }
}

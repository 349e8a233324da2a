package dev.anneal.protocol;

/**
 * Exit codes of the runner process. The platform reads the code of a finished job and decides what
 * the attempt's outcome was; codes it does not know (a segfault, the kernel's OOM killer's 137)
 * count as infrastructure failures, which restart from the newest complete checkpoint.
 */
public enum ExitCode {
  SUCCESS(0, Outcome.SUCCEEDED, "training finished and the final checkpoint is committed"),
  CRASH(1, Outcome.INFRASTRUCTURE, "the runner failed unexpectedly"),
  INVALID_SPEC(2, Outcome.USER_ERROR, "the RunSpec was malformed or contradictory"),
  INPUT_MISSING(
      3, Outcome.USER_ERROR, "a dataset or parent checkpoint named in the spec is missing"),
  CORRUPT_CHECKPOINT(
      4, Outcome.INFRASTRUCTURE, "the resume checkpoint failed its sha256 or manifest check"),
  INSTABILITY(5, Outcome.INSTABILITY, "training went unstable; an instability report was sent"),
  PREEMPTED(6, Outcome.INFRASTRUCTURE, "the runner was asked to stop and checkpointed first");

  /** What an exit code means for the stage workflow's decision. */
  public enum Outcome {
    SUCCEEDED,
    /** Roll back to a healthy checkpoint and skip the offending data. */
    INSTABILITY,
    /** Restart from the newest complete checkpoint, with backoff. */
    INFRASTRUCTURE,
    /** Retrying cannot help; a person has to fix the input. */
    USER_ERROR
  }

  private final int code;
  private final Outcome outcome;
  private final String meaning;

  ExitCode(int code, Outcome outcome, String meaning) {
    this.code = code;
    this.outcome = outcome;
    this.meaning = meaning;
  }

  public int code() {
    return code;
  }

  public Outcome outcome() {
    return outcome;
  }

  public String meaning() {
    return meaning;
  }

  /** Classifies any process exit status; unknown codes are infrastructure failures. */
  public static Outcome outcomeOf(int exitStatus) {
    for (ExitCode c : values()) {
      if (c.code == exitStatus) {
        return c.outcome;
      }
    }
    return Outcome.INFRASTRUCTURE;
  }

  /** Describes any process exit status for a person. */
  public static String describe(int exitStatus) {
    for (ExitCode c : values()) {
      if (c.code == exitStatus) {
        return c.name().toLowerCase() + ": " + c.meaning;
      }
    }
    if (exitStatus == 137) {
      return "killed (SIGKILL, often the out-of-memory killer)";
    }
    if (exitStatus == 143) {
      return "terminated (SIGTERM) before it could checkpoint";
    }
    if (exitStatus > 128 && exitStatus < 160) {
      return "killed by signal " + (exitStatus - 128);
    }
    return "exited with unknown status " + exitStatus;
  }
}

package dev.anneal.runner.data;

/**
 * Batches of whole examples (dialogues, preference pairs) that say what they hold and which of
 * their examples a sequence length cuts, so a stage can tell its user before it trains on them.
 */
public interface ExampleBatches extends BatchSource {

  /** What the batches hold, in words. */
  Description description();

  /** How many examples do not fit {@code seqLen}. */
  long longerThan(int seqLen);

  /**
   * The stage that trains on them as its log lines start ({@code sft}), what one example is in the
   * plural ({@code dialogues}), the counts, and what a cut does to an example that does not fit.
   */
  record Description(String stage, String examples, int training, int heldOut, String cutEffect) {

    /** One line: how many examples train and how many are held out for evaluation. */
    public String holds() {
      return String.format(
          "%s: %d training %s, %d held out for evaluation", stage, training, examples, heldOut);
    }

    /** The warning for {@code cut} examples that do not fit {@code seqLen}, and what to do. */
    public String cutWarning(long cut, int seqLen) {
      return String.format(
          "%s: %d %s do not fit seqLen %d: %s (raise hyperparameters.seqLen to keep them whole)",
          stage, cut, examples, seqLen, cutEffect);
    }
  }
}

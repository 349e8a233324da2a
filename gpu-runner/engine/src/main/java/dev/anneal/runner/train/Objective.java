package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.util.Map;

/**
 * What a trainer minimises, given a batch's tensors {@code {inputs, targets, weights, mask}}:
 * next-token cross-entropy for pre-training and SFT (the weights select the targets that count),
 * the pairwise preference loss for a reward model. An objective may add parameters to the model's
 * (the reward head); they train, checkpoint and export with the rest.
 */
public interface Objective {

  NDArray loss(Transformer model, Params work, NDArray[] in);

  /** Parameters this objective adds, created when the trainer starts (before any restore). */
  default Map<String, NDArray> extraParams(ModelShape shape, NDManager m, long seed) {
    return Map.of();
  }

  Objective LANGUAGE_MODEL =
      (model, p, in) -> Transformer.crossEntropy(model.logits(p, in[0], in[3]), in[1], in[2]);
}

package dev.anneal.runner.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.stability.InstabilityDetector;
import java.util.Optional;

/**
 * {@code training.precision}: fp32, or fp16/bf16 mixed precision — fp32 master weights, a
 * low-precision leaf copy per step for the forward and backward pass, gradients cast back to fp32 —
 * with fp16's dynamic loss scale: halved on an overflow (the update skipped), doubled after {@value
 * #GROWTH_INTERVAL} good steps, a collapse below 1 an instability.
 */
public final class MixedPrecision {

  static final double INITIAL_LOSS_SCALE = 65536;
  static final long GROWTH_INTERVAL = 200;

  private final DataType computeType;
  private double lossScale;
  private long goodSteps;

  private MixedPrecision(DataType computeType) {
    this.computeType = computeType;
    this.lossScale = computeType == DataType.FLOAT16 ? INITIAL_LOSS_SCALE : 1.0;
  }

  /** The spec's precision on this device; bf16 only on a GPU (the CPU build aborts on it). */
  public static MixedPrecision of(String precision, Device device) {
    return switch (precision) {
      case "fp32" -> new MixedPrecision(DataType.FLOAT32);
      case "fp16-mixed" -> new MixedPrecision(DataType.FLOAT16);
      case "bf16-mixed" -> {
        if (!device.isGpu()) {
          throw new IllegalArgumentException(
              "training.precision: bf16-mixed needs a CUDA device; the CPU"
                  + " build of PyTorch that DJL bundles aborts the process on any bfloat16 array."
                  + " Use fp32 (the CPU default) or fp16-mixed on CPU.");
        }
        yield new MixedPrecision(DataType.BFLOAT16);
      }
      default -> throw new IllegalArgumentException("training.precision: " + precision);
    };
  }

  /** Whether the forward and backward pass run on a low-precision copy of the masters. */
  public boolean low() {
    return computeType != DataType.FLOAT32;
  }

  public DataType computeType() {
    return computeType;
  }

  /** Whether a loss scale is in play (fp16 only; bf16 has fp32's range). */
  public boolean scaled() {
    return computeType == DataType.FLOAT16;
  }

  public double lossScale() {
    return lossScale;
  }

  public long goodSteps() {
    return goodSteps;
  }

  /** The loss scale and good-step count of a checkpoint. */
  public void restore(double lossScale, long goodSteps) {
    this.lossScale = lossScale;
    this.goodSteps = goodSteps;
  }

  /** The parameters a step computes with: the masters, or low-precision leaf copies of them. */
  public Params working(Params master, NDManager step) {
    if (!low()) return master;
    // a cast inside the graph would cut it from the masters: leaf copies instead
    Params half = Params.empty(step);
    for (var e : master.all().entrySet()) {
      NDArray c = e.getValue().toType(computeType, true);
      c.setRequiresGradient(true);
      half.put(e.getKey(), c);
    }
    return half;
  }

  /** A working copy's gradient as fp32, attached to the step's manager. */
  public NDArray masterGradient(NDArray g, NDManager step) {
    g.attach(step);
    if (!low()) return g;
    NDArray f = g.toType(DataType.FLOAT32, false);
    f.attach(step);
    return f;
  }

  /** Loss weights in the compute type. */
  public NDArray cast(NDArray weights) {
    return low() ? weights.toType(computeType, false) : weights;
  }

  /**
   * An fp16 overflow at {@code step}: the update is skipped and the scale halved; a scale below 1
   * is a collapse.
   */
  public Optional<InstabilityDetector.Trigger> overflow(
      long step, long dataIndex, EventLog events) {
    lossScale /= 2;
    goodSteps = 0;
    events.log(
        "INFO",
        String.format(
            "fp16 gradient overflow at step %d: update skipped, loss scale now %.0f",
            step, lossScale));
    if (lossScale >= 1) return Optional.empty();
    return Optional.of(
        new InstabilityDetector.Trigger(
            RunnerEvent.InstabilityKind.LOSS_SCALE_COLLAPSE,
            step,
            lossScale,
            1.0,
            dataIndex,
            dataIndex,
            "fp16 loss scale fell below 1 at step " + step));
  }

  /** An applied fp16 update: the scale doubles after every {@value #GROWTH_INTERVAL} of them. */
  public void applied() {
    if (scaled() && ++goodSteps % GROWTH_INTERVAL == 0) lossScale *= 2;
  }
}

package dev.anneal.activities.launch;

import dev.anneal.protocol.Checks;
import java.util.List;
import java.util.Map;

/**
 * How the Kubernetes launcher makes its Jobs: the namespace, the runner images (the CPU one, and
 * the CUDA one for a stage that asks for GPUs: the CPU image bundles PyTorch's CPU natives and
 * would see no GPU; for stages on the torch engine, images with Python and PyTorch as well, which
 * the operator may leave unset: such stages are then refused at launch), the service account, the
 * Secret that holds the S3 keys (keys {@code accessKey} and {@code secretKey}), JVM options for the
 * runner, how long finished Jobs stay for inspection, extra labels for every Job, and the
 * operator's defaults under every stage's resources.
 */
public record KubernetesSettings(
    String namespace,
    String image,
    String cudaImage,
    String torchImage,
    String torchCudaImage,
    String imagePullPolicy,
    String serviceAccount,
    String s3Secret,
    List<String> jvmOptions,
    Integer ttlSecondsAfterFinished,
    Integer terminationGracePeriodSeconds,
    Map<String, String> labels,
    JobDefaults defaults) {

  public static final String S3_ACCESS_KEY = "accessKey";
  public static final String S3_SECRET_KEY = "secretKey";

  public KubernetesSettings {
    Checks.text("namespace", namespace);
    Checks.text("image", image);
    Checks.text("cudaImage", cudaImage);
    torchImage = torchImage == null || torchImage.isBlank() ? null : torchImage;
    torchCudaImage = torchCudaImage == null || torchCudaImage.isBlank() ? null : torchCudaImage;
    imagePullPolicy = Checks.orDefault(imagePullPolicy, "IfNotPresent");
    Checks.text("s3Secret", s3Secret);
    jvmOptions = jvmOptions == null ? List.of() : List.copyOf(jvmOptions);
    ttlSecondsAfterFinished = Checks.orDefault(ttlSecondsAfterFinished, 86_400);
    // the runner commits a checkpoint on SIGTERM; give it time to upload one
    terminationGracePeriodSeconds = Checks.orDefault(terminationGracePeriodSeconds, 300);
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    defaults = defaults == null ? JobDefaults.none() : defaults;
  }
}

package dev.anneal.platform.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.platform.pipeline.KubernetesProperties;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.util.Yaml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ByteArrayResource;

/**
 * The Helm chart ({@code helm/anneal}) through helm-java: lint, template with the defaults and
 * every example values file; every rendered object parses into the official Kubernetes client's
 * model; the security defaults, RBAC verbs and hooks are what docs/deploy.md promises; the schema
 * refuses bad values; and the platform binds the configuration the chart renders.
 */
class HelmChartTest {
  static final Path CHART = Path.of("../helm/anneal");
  static final Path EXAMPLES = Path.of("../helm/examples");

  static Stream<Path> valuesFiles() throws Exception {
    try (Stream<Path> s = Files.list(EXAMPLES)) {
      return s
          .filter(p -> p.getFileName().toString().startsWith("values-"))
          .sorted()
          .toList()
          .stream();
    }
  }

  static String template(Path values, Map<String, Object> set) {
    return template(CHART, values, set);
  }

  /**
   * The hooks (migrations Job, test pod) as well: helm-java's template leaves hooks out, so they
   * are rendered from a copy of the chart whose hook annotations are renamed {@code
   * hook.anneal.test/…} — same objects, same values.
   */
  static String templateWithHooks(Path values) throws Exception {
    Path copy = Files.createTempDirectory("anneal-chart");
    try (Stream<Path> files = Files.walk(CHART)) {
      for (Path f : files.toList()) {
        Path target = copy.resolve(CHART.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.writeString(
              target, Files.readString(f).replace("helm.sh/hook", "hook.anneal.test/hook"));
        }
      }
    }
    return template(copy, values, Map.of());
  }

  static String template(Path chart, Path values, Map<String, Object> set) {
    TemplateCommand t =
        new Helm(chart)
            .template()
            .withName("anneal")
            .withNamespace("anneal")
            .withKubeVersion("1.31.0");
    if (values != null) t = t.withValuesFile(values);
    for (Map.Entry<String, Object> e : set.entrySet()) t = t.set(e.getKey(), e.getValue());
    return t.call();
  }

  /** Every rendered document as the Kubernetes client's model object (CRDs as maps). */
  static List<Object> objects(String manifests) throws Exception {
    List<Object> out = new ArrayList<>();
    for (String doc : manifests.split("(?m)^---\\s*$")) {
      String d = doc.replaceAll("(?m)^#.*$", "").trim();
      if (d.isEmpty()) continue;
      if (d.contains("kind: ServiceMonitor")) {
        out.add(new org.yaml.snakeyaml.Yaml().load(d));
      } else {
        out.add(Yaml.load(d));
      }
    }
    return out;
  }

  static <T> List<T> of(List<Object> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  @Test
  void lintsClean() {
    LintResult r = new Helm(CHART).lint().strict().call();
    assertThat(r.isFailed()).as(String.join("\n", r.getMessages())).isFalse();
  }

  @Test
  void theDefaultsRenderEveryPieceAndParseAsKubernetesObjects() throws Exception {
    List<Object> all = objects(templateWithHooks(null));
    assertThat(all).allSatisfy(o -> assertThat(o).isNotNull());
    assertThat(of(all, V1Deployment.class))
        .extracting(d -> d.getMetadata().getName())
        .containsExactlyInAnyOrder("anneal-api", "anneal-worker");
    assertThat(all.stream().map(o -> o.getClass().getSimpleName()).distinct())
        .contains(
            "V1ConfigMap",
            "V1Service",
            "V1ServiceAccount",
            "V1Role",
            "V1RoleBinding",
            "V1PodDisruptionBudget",
            "V1NetworkPolicy",
            "V1Job",
            "V1Pod")
        .doesNotContain("V1ClusterRole", "V1ClusterRoleBinding", "V2HorizontalPodAutoscaler");
    for (Object o : all) {
      if (o instanceof io.kubernetes.client.common.KubernetesObject k) {
        assertThat(k.getMetadata().getLabels())
            .as(k.getKind() + " " + k.getMetadata().getName())
            .containsEntry("app.kubernetes.io/instance", "anneal")
            .containsEntry("app.kubernetes.io/name", "anneal")
            .containsKey("app.kubernetes.io/version");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("valuesFiles")
  void everyExampleValuesFileRenders(Path values) throws Exception {
    List<Object> all = objects(template(values, Map.of()));
    assertThat(of(all, V1Deployment.class)).hasSize(2);
    if (values.toString().contains("production")) {
      assertThat(all.stream().map(o -> o.getClass().getSimpleName()))
          .contains("V2HorizontalPodAutoscaler", "V1Ingress");
      assertThat(all)
          .anyMatch(o -> o instanceof Map<?, ?> m && "ServiceMonitor".equals(m.get("kind")));
    }
  }

  private static V1PodSpec pod(List<Object> all, String component) {
    if (component.equals("migrations")) {
      return of(all, V1Job.class).get(0).getSpec().getTemplate().getSpec();
    }
    return of(all, V1Deployment.class).stream()
        .filter(d -> d.getMetadata().getName().endsWith("-" + component))
        .findFirst()
        .orElseThrow()
        .getSpec()
        .getTemplate()
        .getSpec();
  }

  @Test
  void podsRunLockedDown() throws Exception {
    List<Object> all = objects(templateWithHooks(null));
    for (String component : List.of("api", "worker", "migrations")) {
      V1PodSpec p = pod(all, component);
      assertThat(p.getSecurityContext().getRunAsNonRoot()).as(component).isTrue();
      assertThat(p.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
      for (V1Container c : p.getContainers()) {
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(component).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/tmp"));
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
      }
    }
    // only the worker launches Jobs, so only it gets a Kubernetes token
    assertThat(pod(all, "worker").getAutomountServiceAccountToken()).isTrue();
    assertThat(pod(all, "api").getAutomountServiceAccountToken()).isFalse();
    assertThat(pod(all, "migrations").getAutomountServiceAccountToken()).isFalse();
    V1Container api = pod(all, "api").getContainers().get(0);
    assertThat(api.getReadinessProbe().getHttpGet().getPath())
        .isEqualTo("/actuator/health/readiness");
    assertThat(api.getLivenessProbe().getHttpGet().getPath())
        .isEqualTo("/actuator/health/liveness");
    assertThat(api.getEnv())
        .anyMatch(e -> e.getName().equals("SPRING_DATASOURCE_PASSWORD") && e.getValueFrom() != null)
        .noneMatch(e -> e.getName().contains("PASSWORD") && e.getValue() != null);
  }

  @Test
  void theLauncherMayDoExactlyWhatItDoesInTheTrainingNamespace() throws Exception {
    List<Object> all = objects(template(null, Map.of()));
    V1Role role = of(all, V1Role.class).get(0);
    assertThat(role.getMetadata().getNamespace()).isEqualTo("anneal-training");
    assertThat(role.getRules())
        .extracting(V1PolicyRule::getResources, V1PolicyRule::getVerbs)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                List.of("jobs"), List.of("create", "get", "list", "watch", "delete")),
            org.assertj.core.groups.Tuple.tuple(
                List.of("pods", "pods/log"), List.of("get", "list", "watch")),
            org.assertj.core.groups.Tuple.tuple(
                List.of("secrets"), List.of("create", "get", "update", "delete")));
  }

  @Test
  void migrationsRunAsAHookBeforeInstallAndUpgradeAndHelmTestAsksForHealth() throws Exception {
    // as an install sees it: the hooks are not among the release's ordinary objects
    assertThat(objects(template(null, Map.of()))).noneMatch(o -> o instanceof V1Job);
    List<Object> all = objects(templateWithHooks(null));
    V1Job migrations = of(all, V1Job.class).get(0);
    assertThat(migrations.getMetadata().getAnnotations())
        .containsEntry("hook.anneal.test/hook", "pre-install,pre-upgrade")
        .containsEntry("hook.anneal.test/hook-weight", "-5")
        .containsEntry(
            "hook.anneal.test/hook-delete-policy", "before-hook-creation,hook-succeeded");
    assertThat(migrations.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("migrate");
    V1Pod test = of(all, V1Pod.class).get(0);
    assertThat(test.getMetadata().getAnnotations()).containsEntry("hook.anneal.test/hook", "test");
    assertThat(String.join(" ", test.getSpec().getContainers().get(0).getArgs()))
        .contains("/actuator/health");
  }

  @Test
  void theSchemaRefusesBadValues() {
    assertThatThrownBy(() -> template(null, Map.of("api.replicas", -1)))
        .hasMessageContaining("replicas");
    assertThatThrownBy(() -> template(null, Map.of("image.repository", "")))
        .hasMessageContaining("repository");
    assertThatThrownBy(() -> template(null, Map.of("s3.endpoint", "minio:9000")))
        .hasMessageContaining("endpoint");
    assertThatThrownBy(() -> template(null, Map.of("traning.namespace", "x")))
        .hasMessageContaining("traning");
    assertThatThrownBy(() -> template(null, Map.of("training.runner.image", "")))
        .hasMessageContaining("image");
    assertThatThrownBy(() -> template(null, Map.of("training.runner.cudaImage", "")))
        .hasMessageContaining("cudaImage");
  }

  @Test
  void thePlatformBindsTheConfigurationTheChartRenders() throws Exception {
    Path values = EXAMPLES.resolve("values-production.yaml");
    V1ConfigMap cm = of(objects(template(values, Map.of())), V1ConfigMap.class).get(0);
    List<PropertySource<?>> sources =
        new YamlPropertySourceLoader()
            .load("chart", new ByteArrayResource(cm.getData().get("application.yaml").getBytes()));
    Binder binder = new Binder(ConfigurationPropertySources.from(sources));
    KubernetesProperties k = binder.bindOrCreate("anneal.kubernetes", KubernetesProperties.class);
    assertThat(k.namespace()).isEqualTo("anneal-training");
    assertThat(k.image()).isEqualTo("registry.example.com/anneal/anneal-runner:0.1.0");
    assertThat(k.cudaImage()).isEqualTo("registry.example.com/anneal/anneal-runner:0.1.0-cuda");
    assertThat(k.torchImage()).isEqualTo("registry.example.com/anneal/anneal-runner-torch:0.1.0");
    assertThat(k.torchCudaImage())
        .isEqualTo("registry.example.com/anneal/anneal-runner-torch:0.1.0-cuda");
    assertThat(k.eventsUrl()).isEqualTo("http://anneal-api.anneal.svc:8080/internal/v1/events");
    assertThat(k.s3Secret()).isEqualTo("anneal-s3");
    assertThat(k.jobDefaults().gpuResourceName()).isEqualTo("nvidia.com/gpu");
    assertThat(k.jobDefaults().queue()).isEqualTo("anneal");
    assertThat(k.jobDefaults().priorityClassName()).isEqualTo("training");
    assertThat(k.jobDefaults().cpu()).isEqualTo("16");
    assertThat(k.jobDefaults().memory()).isEqualTo("128Gi");
    assertThat(k.jobDefaults().nodeSelector()).containsEntry("nvidia.com/gpu.present", "true");
    assertThat(k.jobDefaults().tolerations()).hasSize(1);
    assertThat(binder.bind("anneal.launcher", String.class).get()).isEqualTo("kubernetes");
    assertThat(binder.bind("anneal.engines.command-enabled", Boolean.class).get()).isTrue();
    assertThat(
            binder
                .bind(
                    "anneal.engines.command-images",
                    org.springframework.boot.context.properties.bind.Bindable.listOf(String.class))
                .get())
        .containsExactly("registry.example.com/research/");
    assertThat(
            binder
                .bindOrCreate("anneal.s3", dev.anneal.platform.storage.S3Properties.class)
                .publicEndpoint())
        .isEqualTo("https://files.example.com");
    assertThat(binder.bind("anneal.embedded.enabled", Boolean.class).get()).isFalse();
    assertThat(binder.bind("spring.flyway.enabled", Boolean.class).get()).isFalse();
    assertThat(binder.bind("anneal.temporal.target", String.class).get())
        .isEqualTo("temporal-frontend.temporal.svc:7233");
    assertThat(binder.bindOrCreate("anneal.api", ApiProperties.class).maxSeriesPoints())
        .isEqualTo(1500);
    var temporal =
        binder.bindOrCreate(
            "anneal.temporal", dev.anneal.platform.temporal.TemporalProperties.class);
    assertThat(temporal.tlsCert()).isNull();
  }

  @Test
  void temporalMutualTlsMountsTheClientCertificate() throws Exception {
    List<Object> all =
        objects(template(null, Map.of("temporal.tls.existingSecret", "anneal-temporal")));
    V1ConfigMap cm = of(all, V1ConfigMap.class).get(0);
    Binder binder =
        new Binder(
            ConfigurationPropertySources.from(
                new YamlPropertySourceLoader()
                    .load(
                        "chart",
                        new ByteArrayResource(cm.getData().get("application.yaml").getBytes()))));
    var temporal =
        binder.bindOrCreate(
            "anneal.temporal", dev.anneal.platform.temporal.TemporalProperties.class);
    assertThat(temporal.tlsCert()).isEqualTo("/temporal-tls/tls.crt");
    assertThat(temporal.tlsKey()).isEqualTo("/temporal-tls/tls.key");
    for (String component : List.of("api", "worker")) {
      V1PodSpec p = pod(all, component);
      assertThat(p.getVolumes())
          .anyMatch(
              v ->
                  v.getSecret() != null && "anneal-temporal".equals(v.getSecret().getSecretName()));
      assertThat(p.getContainers().get(0).getVolumeMounts())
          .anyMatch(m -> m.getMountPath().equals("/temporal-tls"));
    }
  }
}

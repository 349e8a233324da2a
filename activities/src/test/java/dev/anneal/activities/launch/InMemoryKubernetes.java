package dev.anneal.activities.launch;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import java.util.HashMap;

/**
 * An in-memory Kubernetes API server for tests (fabric8's mock server in CRUD mode: objects are
 * stored, listed by label, replaced and deleted as a real API server would), spoken to by the
 * official client that Anneal uses against real clusters. There is no scheduler, Job controller or
 * kubelet behind it: {@link TestKubelet} plays those.
 */
final class InMemoryKubernetes implements AutoCloseable {
  private final KubernetesMockServer server =
      new KubernetesMockServer(
          new Context(),
          new MockWebServer(),
          new HashMap<>(),
          new KubernetesCrudDispatcher(),
          false);

  InMemoryKubernetes() {
    server.init();
  }

  ApiClient client() {
    String url = server.url("/");
    return new ClientBuilder().setBasePath(url.substring(0, url.length() - 1)).build();
  }

  @Override
  public void close() {
    server.destroy();
  }
}

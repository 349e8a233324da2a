package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.api.web.SecurityHeadersFilter;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The console, the API and their errors answer with the security headers and the content security
 * policy; the console's browser test ({@link ConsoleIT}) checks that the policy breaks nothing.
 */
@EmbeddedStackTest
class SecurityHeadersIT extends ApiTestSupport {

  @Test
  void everyAnswerCarriesTheSecurityHeaders() throws Exception {
    for (String path :
        new String[] {"/", "/api/v1/pipelines", "/api/v1/nope", "/actuator/health"}) {
      HttpResponse<String> r = send(req("GET", path, null, null, null));
      assertThat(r.headers().firstValue("Content-Security-Policy"))
          .as(path)
          .hasValue(SecurityHeadersFilter.POLICY);
      assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
      assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
      assertThat(r.headers().firstValue("Referrer-Policy")).as(path).hasValue("no-referrer");
    }
    assertThat(SecurityHeadersFilter.POLICY)
        .contains("script-src 'self';")
        .doesNotContain("unsafe-eval")
        .contains("frame-ancestors 'none'");
  }
}

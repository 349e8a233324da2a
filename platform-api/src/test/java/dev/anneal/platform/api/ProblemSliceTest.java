package dev.anneal.platform.api;

import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.put;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.platform.api.web.BodyLimitFilter;
import dev.anneal.platform.api.web.ProblemHandler;
import dev.anneal.protocol.ProtocolException;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.util.unit.DataSize;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The web slice of the API's error handling, without the stack: how each kind of failure becomes an
 * RFC 9457 problem, and the body limits.
 */
class ProblemSliceTest {

  @RestController
  static class Probe {
    @GetMapping("/api/v1/probe/{id}")
    String byId(@PathVariable UUID id, @RequestParam(defaultValue = "1") int n) {
      return id + "/" + n;
    }

    @GetMapping("/api/v1/probe-required")
    String required(@RequestParam String name) {
      return name;
    }

    @GetMapping("/api/v1/probe-api")
    String api() {
      throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "quota-exceeded", "over")
          .with("limit", 2)
          .with("used", 2);
    }

    @GetMapping("/api/v1/probe-spec")
    String spec() {
      throw new ProtocolException("stages[0].kind", "stages[0].kind: unknown kind 'x'", null);
    }

    @GetMapping("/api/v1/probe-bug")
    String bug() {
      throw new IllegalStateException("boom");
    }

    @PostMapping(path = "/api/v1/probe-body", consumes = MediaType.APPLICATION_JSON_VALUE)
    int body(@RequestBody String body) {
      return body.length();
    }
  }

  private final MockMvc mvc =
      MockMvcBuilders.standaloneSetup(new Probe())
          .setControllerAdvice(new ProblemHandler())
          .addFilter(
              new BodyLimitFilter(
                  new ApiProperties(
                      DataSize.ofBytes(100),
                      DataSize.ofKilobytes(1),
                      DataSize.ofKilobytes(1),
                      "default",
                      null,
                      1500,
                      500)),
              "/api/*")
          .build();

  @Test
  void eachFailureIsAProblemWithItsTypeAndField() throws Exception {
    mvc.perform(get("/api/v1/probe-api"))
        .andExpect(status().isTooManyRequests())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value("https://anneal.dev/problems/quota-exceeded"))
        .andExpect(jsonPath("$.limit").value(2))
        .andExpect(jsonPath("$.instance").value("/api/v1/probe-api"));
    mvc.perform(get("/api/v1/probe-spec"))
        .andExpect(status().isUnprocessableEntity())
        .andExpect(jsonPath("$.field").value("stages[0].kind"));
    // a malformed id in the path names nothing: 404; a malformed query value is the caller's: 400
    mvc.perform(get("/api/v1/probe/not-a-uuid"))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.type").value("https://anneal.dev/problems/not-found"));
    mvc.perform(get("/api/v1/probe/" + UUID.randomUUID() + "?n=many"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("n"));
    mvc.perform(get("/api/v1/probe-required"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("name"));
    mvc.perform(put("/api/v1/probe-api"))
        .andExpect(status().isMethodNotAllowed())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value("https://anneal.dev/problems/method-not-allowed"));
    mvc.perform(post("/api/v1/probe-body").contentType(MediaType.TEXT_PLAIN).content("x"))
        .andExpect(status().isUnsupportedMediaType())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
    mvc.perform(get("/api/v1/probe-bug"))
        .andExpect(status().isInternalServerError())
        .andExpect(jsonPath("$.detail").value("the server failed: IllegalStateException: boom"));
  }

  @Test
  void bodiesOverTheLimitAreRefused() throws Exception {
    mvc.perform(
            post("/api/v1/probe-body").contentType(MediaType.APPLICATION_JSON).content("\"ok\""))
        .andExpect(status().isOk());
    mvc.perform(
            post("/api/v1/probe-body")
                .contentType(MediaType.APPLICATION_JSON)
                .content("\"" + "x".repeat(200) + "\""))
        .andExpect(status().isPayloadTooLarge())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.limit").value(100));
  }
}

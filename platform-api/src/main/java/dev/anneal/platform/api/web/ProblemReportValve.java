package dev.anneal.platform.api.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.http.HttpStatus;

/**
 * Tomcat's error report for what it refuses before any servlet sees the request (an encoded slash
 * or a NUL in the path, a malformed request line): an RFC 9457 problem like every other error of
 * the API, instead of Tomcat's HTML page. Errors inside the application are written by Spring
 * first, so this report stays silent for them.
 */
public class ProblemReportValve extends ErrorReportValve {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  protected void report(Request request, Response response, Throwable throwable) {
    int status = response.getStatus();
    // as Tomcat's own report: nothing for a non-error, or once anything was written
    if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
      return;
    }
    HttpStatus known = HttpStatus.resolve(status);
    String reason = known == null ? null : known.getReasonPhrase();
    ObjectNode p = JSON.createObjectNode();
    p.put("type", ProblemHandler.TYPE_BASE + (reason == null ? "error" : slug(reason)));
    p.put("title", reason == null ? "Error" : reason);
    p.put("status", status);
    p.put(
        "detail",
        "the server refused the request before reading it"
            + (status == 400
                ? " (an encoded slash, backslash or NUL in the path, or a malformed request line)"
                : ""));
    try {
      response.setContentType("application/problem+json");
      response.setCharacterEncoding(StandardCharsets.UTF_8.name());
      Writer w = response.getReporter();
      if (w != null) {
        w.write(JSON.writeValueAsString(p));
        response.finishResponse();
      }
    } catch (IOException | IllegalStateException e) {
      // the client is gone, or the response cannot take a body: nothing more to say
    }
  }

  private static String slug(String reason) {
    return reason.toLowerCase().replace(' ', '-');
  }
}

package dev.anneal.platform.api.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.anneal.platform.api.ApiException;
import dev.anneal.protocol.ProtocolException;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Every error of the API as an RFC 9457 {@code application/problem+json}: a type URI, the status, a
 * sentence, the request path ({@code instance}) and, for bad input, the offending field's path.
 */
@RestControllerAdvice
public class ProblemHandler extends ResponseEntityExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);
  public static final String TYPE_BASE = "https://anneal.dev/problems/";

  public static ProblemDetail problem(
      HttpStatusCode status, String type, String detail, String field, String instance) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setType(URI.create(TYPE_BASE + type));
    if (instance != null) p.setInstance(URI.create(instance));
    if (field != null && !field.isEmpty()) p.setProperty("field", field);
    return p;
  }

  static ResponseEntity<Object> respond(ProblemDetail p) {
    return ResponseEntity.status(p.getStatus())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(p);
  }

  @ExceptionHandler(ApiException.class)
  ResponseEntity<Object> api(ApiException e, HttpServletRequest req) {
    ProblemDetail p = problem(e.status(), e.type(), e.getMessage(), e.field(), req.getRequestURI());
    e.extra().forEach(p::setProperty);
    if (e.extra().get("retryAfter") instanceof Number seconds) {
      return ResponseEntity.status(p.getStatus())
          .header(HttpHeaders.RETRY_AFTER, Long.toString(seconds.longValue()))
          .contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .body(p);
    }
    return respond(p);
  }

  @ExceptionHandler(ProtocolException.class)
  ResponseEntity<Object> spec(ProtocolException e, HttpServletRequest req) {
    return respond(
        problem(
            HttpStatus.UNPROCESSABLE_ENTITY,
            "invalid-spec",
            e.getMessage(),
            e.path(),
            req.getRequestURI()));
  }

  @ExceptionHandler(MethodArgumentTypeMismatchException.class)
  ResponseEntity<Object> mismatch(MethodArgumentTypeMismatchException e, HttpServletRequest req) {
    boolean inPath =
        e.getParameter()
            .hasParameterAnnotation(org.springframework.web.bind.annotation.PathVariable.class);
    // a malformed id in the path names nothing that exists
    return respond(
        problem(
            inPath ? HttpStatus.NOT_FOUND : HttpStatus.BAD_REQUEST,
            inPath ? "not-found" : "invalid-request",
            inPath
                ? e.getName() + " '" + e.getValue() + "' does not exist"
                : e.getName() + ": cannot read '" + e.getValue() + "'",
            inPath ? null : e.getName(),
            req.getRequestURI()));
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<Object> unexpected(Exception e, HttpServletRequest req) {
    BodyLimitFilter.BodyTooLargeException tooLarge = tooLarge(e);
    if (tooLarge != null) return tooLargeProblem(tooLarge, req.getRequestURI());
    log.error("{} {} failed", req.getMethod(), req.getRequestURI(), e);
    return respond(
        problem(
            HttpStatus.INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
            null,
            req.getRequestURI()));
  }

  private static ResponseEntity<Object> tooLargeProblem(
      BodyLimitFilter.BodyTooLargeException e, String path) {
    ProblemDetail p =
        problem(HttpStatus.PAYLOAD_TOO_LARGE, "too-large", e.getMessage(), null, path);
    p.setProperty("limit", e.limit);
    return respond(p);
  }

  static BodyLimitFilter.BodyTooLargeException tooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BodyLimitFilter.BodyTooLargeException b) return b;
    }
    return null;
  }

  /**
   * A body that is not the JSON the endpoint reads: malformed, a field the request does not have,
   * or a value of the wrong kind (never coerced). Names the field's path where there is one.
   */
  @Override
  protected ResponseEntity<Object> handleHttpMessageNotReadable(
      HttpMessageNotReadableException e,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    BodyLimitFilter.BodyTooLargeException tooLarge = tooLarge(e);
    if (tooLarge != null) return tooLargeProblem(tooLarge, path(request));
    String field = null;
    String detail = "the request body is not valid JSON for this endpoint";
    if (e.getCause() instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      field = fieldPath(m);
      if (m instanceof UnrecognizedPropertyException) {
        detail = field + ": unknown field";
      } else if (m instanceof MismatchedInputException mi && mi.getTargetType() != null) {
        detail = field + ": must be " + kind(mi.getTargetType());
      } else {
        detail = field + ": " + m.getOriginalMessage().lines().findFirst().orElse("invalid");
      }
    } else if (e.getCause() instanceof JsonProcessingException j && j.getLocation() != null) {
      detail =
          "malformed JSON at line "
              + j.getLocation().getLineNr()
              + ", column "
              + j.getLocation().getColumnNr()
              + ": "
              + j.getOriginalMessage().lines().findFirst().orElse("");
    }
    return respond(
        problem(HttpStatus.BAD_REQUEST, "invalid-request", detail, field, path(request)));
  }

  private static String fieldPath(JsonMappingException m) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : m.getPath()) {
      if (r.getFieldName() != null) {
        if (b.length() > 0) b.append('.');
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String kind(Class<?> t) {
    if (t == String.class || t.isEnum()) return "a string";
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      return "an integer";
    }
    if (Number.class.isAssignableFrom(t) || t == double.class || t == float.class) {
      return "a number";
    }
    if (t == Boolean.class || t == boolean.class) return "true or false";
    if (java.util.Collection.class.isAssignableFrom(t) || t.isArray()) return "a list";
    return "an object";
  }

  @Override
  protected ResponseEntity<Object> handleMissingServletRequestParameter(
      MissingServletRequestParameterException e,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    return respond(
        problem(
            status,
            "invalid-request",
            e.getParameterName() + ": this query parameter is required",
            e.getParameterName(),
            path(request)));
  }

  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception e, Object body, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    BodyLimitFilter.BodyTooLargeException tooLarge = tooLarge(e);
    if (tooLarge != null) return tooLargeProblem(tooLarge, path(request));
    ProblemDetail p =
        body instanceof ProblemDetail d
            ? d
            : ProblemDetail.forStatusAndDetail(status, String.valueOf(e.getMessage()));
    p.setType(URI.create(TYPE_BASE + slug(status)));
    p.setInstance(URI.create(path(request)));
    ResponseEntity<Object> r = respond(p);
    return ResponseEntity.status(status)
        .headers(headers)
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(r.getBody());
  }

  static String slug(HttpStatusCode status) {
    HttpStatus s = HttpStatus.resolve(status.value());
    return s == null ? "error" : s.name().toLowerCase().replace('_', '-');
  }

  private static String path(WebRequest request) {
    return request instanceof ServletWebRequest s ? s.getRequest().getRequestURI() : "";
  }
}

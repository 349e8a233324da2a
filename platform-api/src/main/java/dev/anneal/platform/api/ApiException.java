package dev.anneal.platform.api;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * An error the API answers with an RFC 9457 problem: the status, a problem type (the last segment
 * of {@code https://anneal.dev/problems/<type>}), a sentence saying what was wrong, and where
 * ({@code field}: the path of the offending field, when there is one).
 */
public class ApiException extends RuntimeException {
  private final HttpStatus status;
  private final String type;
  private final String field;
  private final Map<String, Object> extra = new LinkedHashMap<>();

  public ApiException(HttpStatus status, String type, String detail, String field) {
    super(detail);
    this.status = status;
    this.type = type;
    this.field = field;
  }

  public ApiException(HttpStatus status, String type, String detail) {
    this(status, type, detail, null);
  }

  /** Extra members of the problem object (e.g. quota figures). */
  public ApiException with(String name, Object value) {
    extra.put(name, value);
    return this;
  }

  public HttpStatus status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String field() {
    return field;
  }

  public Map<String, Object> extra() {
    return extra;
  }

  /** 404 for anything a caller may not see: another team's object looks like no object at all. */
  public static ApiException notFound(String what, Object id) {
    return new ApiException(HttpStatus.NOT_FOUND, "not-found", what + " " + id + " does not exist");
  }

  public static ApiException badRequest(String detail, String field) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid-request", detail, field);
  }

  public static ApiException unprocessable(String detail, String field) {
    return new ApiException(HttpStatus.UNPROCESSABLE_ENTITY, "invalid-spec", detail, field);
  }

  public static ApiException conflict(String detail) {
    return new ApiException(HttpStatus.CONFLICT, "conflict", detail);
  }
}

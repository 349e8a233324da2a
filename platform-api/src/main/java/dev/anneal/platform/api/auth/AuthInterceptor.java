package dev.anneal.platform.api.auth;

import dev.anneal.platform.api.ApiException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Authenticates every {@code /api/v1} request and checks the endpoint's scope ({@link Requires};
 * GET needs read, other methods submit). The caller is left in a request attribute for {@link
 * CallerResolver}. Each token's requests are rate-limited ({@link RateLimits}). Tokens are never
 * logged: nothing here writes the header anywhere.
 */
public class AuthInterceptor implements HandlerInterceptor {
  static final String ATTRIBUTE = Caller.class.getName();

  private final ApiTokens tokens;
  private final RateLimits limits;

  public AuthInterceptor(ApiTokens tokens, RateLimits limits) {
    this.tokens = tokens;
    this.limits = limits;
  }

  @Override
  public boolean preHandle(HttpServletRequest req, HttpServletResponse res, Object handler) {
    if (!(handler instanceof HandlerMethod method)) return true;
    String header = req.getHeader("Authorization");
    String token =
        header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
            ? header.substring(7).trim()
            : null;
    Caller caller = tokens.authenticate(token);
    limits.take(caller);
    Requires requires = method.getMethodAnnotation(Requires.class);
    Scope needed =
        requires != null
            ? requires.value()
            : "GET".equals(req.getMethod()) || "HEAD".equals(req.getMethod())
                ? Scope.READ
                : Scope.SUBMIT;
    if (!caller.may(needed)) {
      throw new ApiException(
          HttpStatus.FORBIDDEN,
          "insufficient-scope",
          "this token has scopes "
              + caller.scopes().stream().sorted().map(Scope::id).toList()
              + " but "
              + req.getMethod()
              + " "
              + req.getRequestURI()
              + " needs '"
              + needed.id()
              + "'");
    }
    if (requires != null && requires.operator() && !caller.operator()) {
      throw new ApiException(
          HttpStatus.FORBIDDEN,
          "operator-only",
          "only an operator team's admin token may "
              + req.getMethod()
              + " "
              + req.getRequestURI()
              + "; team '"
              + caller.team()
              + "' is not an operator team");
    }
    req.setAttribute(ATTRIBUTE, caller);
    return true;
  }
}

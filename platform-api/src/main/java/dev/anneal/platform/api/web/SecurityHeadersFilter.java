package dev.anneal.platform.api.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Security headers on every answer: no MIME sniffing, no referrer, never framed, and — for the
 * console and the API — a content security policy that lets a page load scripts, styles, images,
 * fonts and connections from its own origin only (styles may be inline: the charts set them), no
 * plugins, no other base URI or form target. Swagger UI ({@code /swagger-ui/}) is left without a
 * policy: its page is springdoc's, not ours, and it is not checked in a browser here.
 */
public final class SecurityHeadersFilter extends OncePerRequestFilter {

  /** The console's policy; a change must keep the console's browser test free of violations. */
  public static final String POLICY =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
          + " img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self';"
          + " object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Referrer-Policy", "no-referrer");
    response.setHeader("X-Frame-Options", "DENY");
    if (!request.getRequestURI().startsWith("/swagger-ui")) {
      response.setHeader("Content-Security-Policy", POLICY);
    }
    chain.doFilter(request, response);
  }
}

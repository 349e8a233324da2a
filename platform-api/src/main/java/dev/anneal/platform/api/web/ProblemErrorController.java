package dev.anneal.platform.api.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * What reaches the servlet container's error page (an error outside Spring MVC: a filter, a
 * container limit) is answered as a problem too, never as an HTML page or Boot's own JSON.
 */
@RestController
public class ProblemErrorController implements ErrorController {

  @RequestMapping("/error")
  ResponseEntity<Object> error(HttpServletRequest req) {
    Object code = req.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    HttpStatus status =
        code instanceof Integer i && HttpStatus.resolve(i) != null
            ? HttpStatus.valueOf(i)
            : HttpStatus.INTERNAL_SERVER_ERROR;
    Object uri = req.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
    Object message = req.getAttribute(RequestDispatcher.ERROR_MESSAGE);
    String detail =
        message instanceof String m && !m.isBlank() ? m : status.getReasonPhrase().toLowerCase();
    ProblemDetail p =
        ProblemHandler.problem(
            status, ProblemHandler.slug(status), detail, null, uri == null ? null : uri.toString());
    return ProblemHandler.respond(p);
  }
}

package dev.anneal.platform.api.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Caps request bodies under {@code /api/}: dataset uploads at {@code anneal.api.max-dataset}, model
 * imports at {@code anneal.api.max-model-import}, everything else at {@code anneal.api.max-body}. A
 * declared length over the cap is refused before a byte is read; a streamed body is cut off when it
 * passes the cap.
 */
public class BodyLimitFilter extends OncePerRequestFilter {
  private final long maxBody;
  private final long maxDataset;
  private final long maxModelImport;

  public BodyLimitFilter(ApiProperties p) {
    this.maxBody = p.maxBody().toBytes();
    this.maxDataset = p.maxDataset().toBytes();
    this.maxModelImport = p.maxModelImport().toBytes();
  }

  /** The body passed the limit while it was being read. */
  public static final class BodyTooLargeException extends IOException {
    public final long limit;

    BodyTooLargeException(long limit) {
      super("the request body is larger than the limit of " + limit + " bytes");
      this.limit = limit;
    }
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith("/api/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest req, HttpServletResponse res, FilterChain chain)
      throws ServletException, IOException {
    boolean post = "POST".equals(req.getMethod());
    String uri = req.getRequestURI();
    long limit =
        post && uri.startsWith("/api/v1/datasets/")
            ? maxDataset
            : post && uri.startsWith("/api/v1/models/") && uri.endsWith("/import")
                ? maxModelImport
                : maxBody;
    long declared = req.getContentLengthLong();
    if (declared > limit) {
      res.setStatus(HttpStatus.PAYLOAD_TOO_LARGE.value());
      res.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
      res.setHeader("Connection", "close");
      res.getWriter()
          .write(
              "{\"type\":\"https://anneal.dev/problems/too-large\",\"title\":\"Payload Too Large\","
                  + "\"status\":413,\"detail\":\"the request body is "
                  + declared
                  + " bytes; the limit here is "
                  + limit
                  + " bytes\",\"limit\":"
                  + limit
                  + ",\"instance\":\""
                  + req.getRequestURI().replace("\"", "")
                  + "\"}");
      return;
    }
    chain.doFilter(new Limited(req, limit), res);
  }

  private static final class Limited extends HttpServletRequestWrapper {
    private final long limit;
    private ServletInputStream stream;

    Limited(HttpServletRequest req, long limit) {
      super(req);
      this.limit = limit;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      if (stream == null) {
        ServletInputStream in = super.getInputStream();
        stream =
            new ServletInputStream() {
              long read;

              @Override
              public int read() throws IOException {
                int b = in.read();
                if (b >= 0 && ++read > limit) throw new BodyTooLargeException(limit);
                return b;
              }

              @Override
              public int read(byte[] buf, int off, int len) throws IOException {
                int n = in.read(buf, off, len);
                if (n > 0 && (read += n) > limit) throw new BodyTooLargeException(limit);
                return n;
              }

              @Override
              public boolean isFinished() {
                return in.isFinished();
              }

              @Override
              public boolean isReady() {
                return in.isReady();
              }

              @Override
              public void setReadListener(ReadListener l) {
                in.setReadListener(l);
              }
            };
      }
      return stream;
    }
  }
}

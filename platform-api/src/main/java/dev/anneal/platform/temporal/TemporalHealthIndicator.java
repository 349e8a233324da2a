package dev.anneal.platform.temporal;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/** UP when the Temporal frontend answers a gRPC call within three seconds. */
class TemporalHealthIndicator extends AbstractHealthIndicator {

  private final WorkflowServiceStubs stubs;
  private final TemporalProperties props;

  TemporalHealthIndicator(WorkflowServiceStubs stubs, TemporalProperties props) {
    super("Temporal health check failed");
    this.stubs = stubs;
    this.props = props;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    builder.withDetail("target", props.target()).withDetail("namespace", props.namespace());
    try {
      var info =
          stubs
              .blockingStub()
              .withDeadlineAfter(3, TimeUnit.SECONDS)
              .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
      builder.up().withDetail("serverVersion", info.getServerVersion());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        // an older server (or the embedded test server) answered: it is there
        builder.up();
      } else {
        builder
            .down()
            .withDetail("error", e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      }
    }
  }
}

package dev.anneal.platform.startup;

import dev.anneal.platform.embedded.EmbeddedProperties;
import dev.anneal.platform.embedded.EmbeddedStack;
import java.nio.file.Path;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.event.ApplicationPreparedEvent;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.event.SmartApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Brings up what the platform stands on before the Spring context is created: in embedded mode the
 * {@link EmbeddedStack} (whose endpoints then become the connection properties), in cluster mode a
 * {@link ClusterPreflight} of the external services. The stack is handed to the context as the
 * first disposable bean, so it is stopped last, after the web server, the Temporal worker and the
 * connection pool. Registered in {@code META-INF/spring.factories}, so tests get it too.
 */
public class StackLifecycleListener implements SmartApplicationListener {

  static final String PROPERTY_SOURCE = "annealEmbeddedStack";

  private EmbeddedStack stack;

  @Override
  public boolean supportsEventType(Class<? extends ApplicationEvent> type) {
    return ApplicationEnvironmentPreparedEvent.class.isAssignableFrom(type)
        || ApplicationPreparedEvent.class.isAssignableFrom(type)
        || ApplicationFailedEvent.class.isAssignableFrom(type);
  }

  @Override
  public int getOrder() {
    // after Boot has loaded the configuration files and set up logging
    return Ordered.LOWEST_PRECEDENCE - 10;
  }

  @Override
  public void onApplicationEvent(ApplicationEvent event) {
    if (event instanceof ApplicationEnvironmentPreparedEvent e) {
      prepare(e.getEnvironment());
    } else if (event instanceof ApplicationPreparedEvent e && stack != null) {
      var beanFactory = e.getApplicationContext().getBeanFactory();
      beanFactory.registerSingleton("embeddedStack", stack);
      if (beanFactory instanceof DefaultListableBeanFactory registry) {
        registry.registerDisposableBean("embeddedStack", stack::close);
      }
    } else if (event instanceof ApplicationFailedEvent && stack != null) {
      stack.close();
    }
  }

  private void prepare(ConfigurableEnvironment env) {
    if (env.getPropertySources().contains(PROPERTY_SOURCE)) {
      return; // a child context of an application that already started its stack
    }
    Binder binder = Binder.get(env);
    EmbeddedProperties props =
        binder
            .bind("anneal.embedded", EmbeddedProperties.class)
            .orElseGet(
                () ->
                    new EmbeddedProperties(
                        true, Path.of(".anneal"), "127.0.0.1", 15432, 7233, 9000, "anneal", null));
    if (props.enabled()) {
      int apiPort = binder.bind("server.port", Integer.class).orElse(8080);
      stack = EmbeddedStack.start(props, apiPort);
      env.getPropertySources()
          .addFirst(new MapPropertySource(PROPERTY_SOURCE, stack.springProperties()));
    } else if (binder.bind("anneal.startup.preflight", Boolean.class).orElse(true)) {
      ClusterPreflight.check(env);
    }
  }
}

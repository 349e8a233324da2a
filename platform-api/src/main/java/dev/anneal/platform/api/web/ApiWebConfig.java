package dev.anneal.platform.api.web;

import dev.anneal.platform.api.auth.ApiTokens;
import dev.anneal.platform.api.auth.AuthInterceptor;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.auth.CallerResolver;
import dev.anneal.platform.api.auth.RateLimits;
import dev.anneal.protocol.ProtocolJson;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import org.apache.catalina.core.StandardHost;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Wires the API: token checks on {@code /api/v1/**}, body limits, security headers on every answer,
 * the OpenAPI description.
 */
@Configuration(proxyBeanMethods = false)
public class ApiWebConfig implements WebMvcConfigurer {
  static {
    // the authenticated caller is resolved from the token, not read from the request
    SpringDocUtils.getConfig().addRequestWrapperToIgnore(Caller.class);
  }

  private final ApiTokens tokens;
  private final RateLimits limits;

  public ApiWebConfig(
      ApiTokens tokens,
      @Value("${anneal.api.rate-limit.per-second:100}") long perSecond,
      @Value("${anneal.api.rate-limit.burst:300}") long burst) {
    this.tokens = tokens;
    this.limits = new RateLimits(perSecond, burst);
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(new AuthInterceptor(tokens, limits)).addPathPatterns("/api/v1/**");
  }

  @Override
  public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
    resolvers.add(new CallerResolver());
  }

  @Bean
  FilterRegistrationBean<BodyLimitFilter> bodyLimitFilter(ApiProperties props) {
    FilterRegistrationBean<BodyLimitFilter> r =
        new FilterRegistrationBean<>(new BodyLimitFilter(props));
    r.addUrlPatterns("/api/*");
    r.setOrder(0);
    return r;
  }

  /** Tomcat's own refusals (before any servlet) answer problem+json too. */
  @Bean
  WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemReports() {
    return factory ->
        factory.addContextCustomizers(
            context -> {
              if (context.getParent() instanceof StandardHost host) {
                host.setErrorReportValveClass(ProblemReportValve.class.getName());
              }
            });
  }

  /**
   * Request bodies are read strictly: an unknown field is an error, and no scalar is coerced into
   * another kind (a number where a name belongs, "5" where a number belongs).
   */
  @Bean
  Jackson2ObjectMapperBuilderCustomizer strictJson() {
    return b -> b.failOnUnknownProperties(true).postConfigurer(ProtocolJson::strictScalars);
  }

  @Bean
  FilterRegistrationBean<SecurityHeadersFilter> securityHeadersFilter() {
    FilterRegistrationBean<SecurityHeadersFilter> r =
        new FilterRegistrationBean<>(new SecurityHeadersFilter());
    r.addUrlPatterns("/*");
    r.setOrder(-1); // before anything that may answer early
    return r;
  }

  @Bean
  OpenAPI annealOpenApi() {
    return new OpenAPI()
        .info(
            new Info()
                .title("Anneal API")
                .version("v1")
                .description(
                    "Pipelines, datasets, checkpoints, models and live metrics of a team. Every"
                        + " call takes 'Authorization: Bearer anl_…'; errors are RFC 9457"
                        + " application/problem+json."))
        .components(
            new Components()
                .addSecuritySchemes(
                    "token",
                    new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("bearer")
                        .description("an API token (anl_…) of a team")))
        .addSecurityItem(new SecurityRequirement().addList("token"));
  }
}

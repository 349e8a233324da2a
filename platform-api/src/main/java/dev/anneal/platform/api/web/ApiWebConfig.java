package dev.anneal.platform.api.web;

import dev.anneal.platform.api.auth.ApiTokens;
import dev.anneal.platform.api.auth.AuthInterceptor;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.auth.CallerResolver;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import org.springdoc.core.utils.SpringDocUtils;
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

  public ApiWebConfig(ApiTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(new AuthInterceptor(tokens)).addPathPatterns("/api/v1/**");
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

# The platform: API, console, Temporal worker and `anneal migrate`, one executable jar.
# Build from the repository root after `./mvnw -B -DskipTests install`:
#   docker build -f deploy/docker/platform.Dockerfile -t anneal:0.1.0 .
FROM eclipse-temurin:17-jre-jammy
RUN groupadd --system --gid 10001 anneal \
 && useradd --system --uid 10001 --gid anneal --home-dir /app --shell /usr/sbin/nologin anneal
WORKDIR /app
COPY platform-api/target/anneal.jar /app/anneal.jar
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/anneal.jar"]
CMD ["serve", "--no-embedded"]

# The training runner, CPU: the engine with DJL's CPU build of PyTorch (bundled in the jar).
# Build from the repository root after `./mvnw -B -DskipTests install`:
#   docker build -f deploy/docker/runner.Dockerfile -t anneal-runner:0.1.0 .
FROM eclipse-temurin:17-jre-jammy
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1000 runner \
 && useradd --system --uid 1000 --gid runner --home-dir /scratch --shell /usr/sbin/nologin runner
# DJL unpacks PyTorch's natives under $DJL_CACHE_DIR; the Job mounts a writable /scratch there
ENV DJL_CACHE_DIR=/scratch/.djl.ai
COPY gpu-runner/engine/target/anneal-runner.jar /opt/anneal/anneal-runner.jar
USER 1000:1000
WORKDIR /scratch
# the Kubernetes launcher runs: java <jvm options> -jar /opt/anneal/anneal-runner.jar --spec s3://…
ENTRYPOINT ["java", "-jar", "/opt/anneal/anneal-runner.jar"]

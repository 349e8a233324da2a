# The training runner for stages on engine: torch, CPU: the same jar (it carries the reference
# engine's Python and runs it under `exec --engine torch`) beside Debian's Python 3 and PyTorch,
# the same packages the test suite trains with. Not built in CI (no Docker engine there).
#   docker build -f deploy/docker/runner-torch.Dockerfile -t anneal-runner-torch:0.1.0 .
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless python3 python3-torch \
      python3-numpy libopenblas0-pthread util-linux libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1000 runner \
 && useradd --system --uid 1000 --gid runner --home-dir /scratch --shell /usr/sbin/nologin runner
# the wrapper starts each rank with this interpreter, under setpriv (util-linux) --pdeathsig
ENV ANNEAL_PYTHON=/usr/bin/python3 \
    DJL_CACHE_DIR=/scratch/.djl.ai
COPY gpu-runner/engine/target/anneal-runner.jar /opt/anneal/anneal-runner.jar
USER 1000:1000
WORKDIR /scratch
ENTRYPOINT ["java", "-jar", "/opt/anneal/anneal-runner.jar"]

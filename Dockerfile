# One image for every Rollgate service; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /rollgate
COPY package.json package-lock.json ./
RUN npm ci
COPY --chown=node:node . .
# Agents keep their state under the data dir (a volume in docker-compose.yml).
RUN mkdir -p .rollgate/data && chown -R node:node .rollgate
# Not root: a service that is broken into cannot own the container.
USER node
# Inside the container every interface is the container's own; docker-compose.yml publishes the
# ports on the host's 127.0.0.1 only.
ENV ROLLGATE_HOST=0.0.0.0
EXPOSE 7001 7002 7003 7004 7005 7006
CMD ["node", "bin/run.js", "apps/embedded/src/main.ts"]

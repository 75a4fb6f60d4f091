# syntax=docker/dockerfile:1
# Two images from one file: `--target server` (API + built web app) and `--target worker`.
# Node 24 is the current LTS line; pin the digest in your registry for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only (tsx runs the TypeScript sources; no compile step).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Every dependency, then the web client and GraphiQL bundles (`npm run build` makes both).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production LOG_FORMAT=json
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY schema ./schema
COPY common ./common

# API server: GraphQL over HTTP and WebSocket, probes, and the web app, on port 8000;
# GraphiQL at /graphiql with GRAPHIQL=true. `npm run keys` (scripts/keys.ts) runs here too:
# it needs the server's key store and the Redis settings the server already has.
FROM base AS server
ENV HOST=0.0.0.0 PORT=8000
COPY server ./server
COPY scripts/keys.ts ./scripts/keys.ts
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/graphiql/dist ./graphiql/dist
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "server/main.ts"]

# Worker: no port; alive while it touches its liveness file (Redis outages do not count).
FROM base AS worker
ENV WORKER_LIVENESS_FILE=/tmp/atf-worker-alive
COPY worker ./worker
USER node
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["sh", "-c", "test $(( $(date +%s) - $(stat -c %Y \"$WORKER_LIVENESS_FILE\") )) -lt 30"]
CMD ["node", "--import", "tsx", "worker/main.ts"]

# aimsflow worker and API image.
#   build:   npm ci, then `npm run build` (tsc -p tsconfig.build.json) into dist/
#   runtime: production dependencies and dist/ only, as the unprivileged `node` user
# The same image runs either part (see docker-compose.yml):
#   node dist/workers/main.js      the Temporal worker
#   node dist/src/api/server.js    the HTTP API (default)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# Two glibc malloc arenas instead of eight per core: the worker's native threads (the Temporal
# core, the workflow thread) otherwise each keep an arena of freed memory, about 60 MB more RSS
# after a burst of work (workers/process-settings.ts).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
CMD ["node", "dist/src/api/server.js"]

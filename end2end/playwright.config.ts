import { defineConfig } from "@playwright/test";

// Every test runs twice: with JavaScript off (pure server rendering and plain form posts) and
// hydrated (WebAssembly loaded). The server gets a fresh SQLite database per run.
const port = process.env.E2E_PORT ?? "3100";
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  // One retry absorbs a machine too busy to answer within a timeout; every retry is printed in
  // the report, and none is expected (pages render on single-threaded workers since the SSR
  // stall was fixed).
  retries: 1,
  timeout: 30_000,
  reporter: [["list"]],
  globalSetup: "./tests/global-setup.ts",
  use: {
    baseURL,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "ssr", use: { javaScriptEnabled: false }, testIgnore: /\.hydrate\.spec\.ts$/ },
    { name: "hydrate", use: { javaScriptEnabled: true } },
  ],
  webServer: {
    command: "sh ./serve-for-tests.sh",
    url: `${baseURL}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: { E2E_PORT: port },
  },
});

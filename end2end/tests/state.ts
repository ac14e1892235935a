// Each spec file runs its own server (a fresh demo office in its own directory), so no spec
// depends on what another left behind or on the order they run in: `test.beforeAll` of this
// module starts it, `test.afterAll` stops it and fails the spec if it printed a panic. Helpers
// log in through the real login form and reach the running server.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { test as base, expect, Page } from "@playwright/test";
import { cleanEnv, Started, startSimpul, stopSimpul } from "./simpul";

export const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../../target/release/simpul");

export interface ServerState {
  base: string;
  passwords: Record<string, string>;
  /** Address of the demo kiosk, with its token. */
  kiosk: string;
  /** Address of the demo waiting-room display, with its token. */
  display: string;
  /** The server's working directory (its data is in `data/`). */
  dir: string;
}

let running: (Started & { dir: string }) | undefined;

/** A TCP port on 127.0.0.1 that nothing listens on now (bound, then let go). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts this spec file's server: a demo office whose hub is configured but unreachable, so
 *  that the office day runs with the link down. */
async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-e2e-"));
  running = {
    ...(await startSimpul(binary, dir, {
      ...cleanEnv(),
      SIMPUL_LISTEN: "127.0.0.1:0",
      SIMPUL_DATA_DIR: path.join(dir, "data"),
      SIMPUL_HUB__URL: `http://127.0.0.1:${await closedPort()}`,
      RUST_LOG: "warn",
    })),
    dir,
  };
}

/** Gives the calling spec file its own server for all its tests. */
export function ownServer() {
  base.beforeAll(async () => {
    await startServer();
  });
  base.afterAll(async () => {
    const stopping = running;
    running = undefined;
    if (!stopping) return;
    try {
      await stopSimpul(stopping);
    } finally {
      fs.rmSync(stopping.dir, { recursive: true, force: true });
    }
  });
}

export function server(): ServerState {
  if (!running) throw new Error("no server: call ownServer() at the top of the spec file");
  const kiosk = running.console.match(/kiosk:\s+(\S+)/)?.[1] ?? "";
  const display = running.console.match(/display:\s+(\S+)/)?.[1] ?? "";
  return { base: running.base, passwords: running.passwords, kiosk, display, dir: running.dir };
}

/** Waits until the page is hydrated: the WASM has taken over the server-rendered HTML. */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached", timeout: 30_000 });
}

/** Marks the current document; `stillSameDocument` is false after any full reload. */
export async function markDocument(page: Page) {
  await page.evaluate(() => ((window as any).__noReload = "kept"));
}

export async function stillSameDocument(page: Page) {
  return (await page.evaluate(() => (window as any).__noReload)) === "kept";
}

export async function login(page: Page, username: string, password?: string) {
  const s = server();
  await page.goto(`${s.base}/masuk`);
  await hydrated(page);
  await page.getByLabel(/Nama pengguna|Username/).fill(username);
  await page.getByLabel(/Kata sandi|Password/).fill(password ?? s.passwords[username]);
  await page.getByRole("button", { name: /^(Masuk|Log in)$/ }).click();
  await expect(page).toHaveURL(`${s.base}/`);
}

/** Opens counter `counter` for the user logged in on `page`, through the API: opening a counter
 *  one already works is harmless, so the test starts from a known state whatever ran before. */
export async function openCounter(page: Page, base: string, counter: string) {
  const session = await (await page.request.get(`${base}/api/session`)).json();
  const opened = await page.request.post(`${base}/api/counter/open`, {
    form: { csrf: session.csrf, counter, open: "true" },
  });
  expect(opened.ok(), await opened.text()).toBeTruthy();
}

/** Adds a staff account to the running server's office with `simpul user add`. */
export function addStaff(username: string, name: string, role: string, password: string) {
  const { dir } = server();
  execFileSync(binary, ["user", "add", "--username", username, "--name", name, "--role", role, "--password-stdin"], {
    input: `${password}\n`,
    env: { ...cleanEnv(), SIMPUL_DATA_DIR: path.join(dir, "data"), RUST_LOG: "warn" },
    stdio: ["pipe", "ignore", "inherit"],
  });
}

/** The date `years` years from today, as date inputs take it: a permit or passport valid
 *  whenever the suite runs. */
export function yearsFromToday(years: number): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
}

export const test = base;
export { expect };

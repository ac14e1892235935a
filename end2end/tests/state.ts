// Where global-setup leaves the running server's address and demo passwords, and a fixture
// that logs in through the real login form.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test as base, expect, Page } from "@playwright/test";

export const STATE_FILE = path.join(__dirname, "..", ".e2e-state.json");

export interface ServerState {
  base: string;
  passwords: Record<string, string>;
  /** Address of the demo kiosk, with its token. */
  kiosk: string;
  /** Address of the demo waiting-room display, with its token. */
  display: string;
}

export function server(): ServerState {
  return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
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

/** Adds a staff account to the running server's office with `simpul user add`. */
export function addStaff(username: string, name: string, role: string, password: string) {
  const { dir } = JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as { dir: string };
  const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../../target/release/simpul");
  execFileSync(binary, ["user", "add", "--username", username, "--name", name, "--role", role, "--password-stdin"], {
    input: `${password}\n`,
    env: { ...process.env, SIMPUL_DATA_DIR: path.join(dir, "data"), RUST_LOG: "warn" },
    stdio: ["pipe", "ignore", "inherit"],
  });
}

export const test = base;
export { expect };

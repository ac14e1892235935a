// A staff member changes their own password on "Akun saya": the current one is checked, the
// new one against the policy, and afterwards only the new one logs in. On its own box, so the
// demo passwords the other specs use stay as they are.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Page } from "@playwright/test";
import { cleanEnv, Started, startSimpul, stopSimpul } from "./simpul";
import { expect, hydrated, test } from "./state";

const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../../target/release/simpul");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-account-"));
let box: Started;

test.beforeAll(async () => {
  box = await startSimpul(binary, work, {
    ...cleanEnv(),
    SIMPUL_LISTEN: "127.0.0.1:0",
    SIMPUL_DATA_DIR: path.join(work, "data"),
    RUST_LOG: "warn",
  } as Record<string, string>);
});

test.afterAll(async () => {
  await stopSimpul(box);
});

async function logIn(page: Page, username: string, password: string) {
  await page.goto(`${box.base}/masuk`);
  await hydrated(page);
  await page.getByLabel("Nama pengguna").fill(username);
  await page.getByLabel("Kata sandi").fill(password);
  await page.getByRole("button", { name: "Masuk", exact: true }).click();
}

async function attempt(page: Page, current: string, next: string, repeat: string) {
  await page.locator("#current").fill(current);
  await page.locator("#new_password").fill(next);
  await page.locator("#repeat").fill(repeat);
  await page.locator("#change-password").click();
}

test("a staff member changes their own password and only the new one logs in", async ({ page }) => {
  const old = box.passwords["verifikator"];
  await logIn(page, "verifikator", old);
  await expect(page).toHaveURL(`${box.base}/`);
  await page.locator("#account-link").click();
  await expect(page).toHaveURL(`${box.base}/akun`);
  await hydrated(page);

  await attempt(page, "bukan-sandi-saya", "kopi-bali-pagi-9", "kopi-bali-pagi-9");
  await expect(page.locator("#password-error")).toContainText("Kata sandi saat ini salah");
  await attempt(page, old, "kopi-bali-pagi-9", "kopi-bali-sore-9");
  await expect(page.locator("#password-error")).toContainText("tidak sama");
  await attempt(page, old, "aaaaaaaaaaaa", "aaaaaaaaaaaa");
  await expect(page.locator("#password-error")).toContainText("terlalu mudah ditebak");

  await attempt(page, old, "kopi-bali-pagi-9", "kopi-bali-pagi-9");
  await expect(page).toHaveURL(`${box.base}/masuk?sandi=diganti`);
  await expect(page.locator("#password-changed")).toContainText("Kata sandi sudah diganti");

  await logIn(page, "verifikator", old);
  await expect(page.locator("#login-error")).toBeVisible();
  await logIn(page, "verifikator", "kopi-bali-pagi-9");
  await expect(page).toHaveURL(`${box.base}/`);
});

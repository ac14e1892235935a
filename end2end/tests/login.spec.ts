// Logging in and out as every role, with navigation by role, in Indonesian first.
import { expect, hydrated, login, ownServer, server, test } from "./state";

ownServer();

const roles: Array<{ user: string; label: string; nav: string[]; hidden: string[] }> = [
  { user: "petugas", label: "Petugas Loket", nav: ["Beranda", "Katalog Layanan"], hidden: ["Pengguna", "Sistem"] },
  { user: "verifikator", label: "Verifikator", nav: ["Beranda", "Katalog Layanan"], hidden: ["Pengguna", "Sistem"] },
  { user: "kepala", label: "Kepala Kantor", nav: ["Beranda", "Katalog Layanan", "Pengguna", "Sistem"], hidden: [] },
  { user: "adminkab", label: "Admin Kabupaten", nav: ["Beranda", "Katalog Layanan", "Pengguna", "Sistem"], hidden: [] },
  { user: "installer", label: "Teknisi Instalasi", nav: ["Beranda", "Katalog Layanan", "Sistem"], hidden: ["Pengguna"] },
];

for (const role of roles) {
  test(`${role.user} logs in, sees the menu of the role, and logs out`, async ({ page }) => {
    await login(page, role.user);
    await expect(page.locator("[data-role]")).toHaveText(role.label);
    const nav = page.getByRole("navigation", { name: "Menu utama" });
    for (const entry of role.nav) await expect(nav.getByRole("link", { name: entry, exact: true })).toBeVisible();
    for (const entry of role.hidden) await expect(nav.getByRole("link", { name: entry, exact: true })).toHaveCount(0);
    await expect(page.getByRole("status").filter({ hasText: /^Luring/ })).toBeVisible();
    await page.getByRole("button", { name: "Keluar" }).click();
    await expect(page).toHaveURL(`${server().base}/masuk`);
    await expect(page.getByRole("heading", { name: "Masuk" })).toBeVisible();
  });
}

test("a wrong password is refused with an Indonesian message", async ({ page }) => {
  await page.goto(`${server().base}/masuk`);
  await hydrated(page);
  await page.getByLabel("Nama pengguna").fill("verifikator");
  await page.getByLabel("Kata sandi").fill("bukan-kata-sandinya");
  await page.getByRole("button", { name: "Masuk" }).click();
  await expect(page.getByRole("alert")).toHaveText("Nama pengguna atau kata sandi salah.");
  await expect(page).toHaveURL(/\/masuk$/);
});

test("a page behind the login sends you to it and back", async ({ page }) => {
  const s = server();
  await page.goto(`${s.base}/katalog`);
  await expect(page).toHaveURL(`${s.base}/masuk?next=/katalog`);
  await hydrated(page);
  await page.getByLabel("Nama pengguna").fill("petugas");
  await page.getByLabel("Kata sandi").fill(s.passwords["petugas"]);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(`${s.base}/katalog`);
  await expect(page.getByRole("heading", { name: "Katalog Layanan" })).toBeVisible();
});

test("a role is refused a page it may not open, on the server too", async ({ page }) => {
  await login(page, "petugas");
  const response = await page.goto(`${server().base}/pengguna`);
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("alert")).toContainText("Peran Anda tidak diizinkan");
});

test("the login form and the skip link work by keyboard alone", async ({ page }) => {
  const s = server();
  await page.goto(`${s.base}/masuk`);
  await hydrated(page);
  // The username field has the focus when the page opens.
  await expect(page.getByLabel("Nama pengguna")).toBeFocused();
  await page.keyboard.type("kepala");
  await page.keyboard.press("Tab");
  await page.keyboard.type(s.passwords["kepala"]);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(`${s.base}/`);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Lewati ke konten" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
});

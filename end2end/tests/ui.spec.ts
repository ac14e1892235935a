// The hydrated UI: language switch and catalog search change the page without a reload; the
// catalog pages; the not-found page.
import { expect, hydrated, login, markDocument, ownServer, server, stillSameDocument, test } from "./state";

ownServer();

test("the language switches to English and back without a reload, and is remembered", async ({ page }) => {
  await page.goto(`${server().base}/masuk`);
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "id");
  await markDocument(page);
  await page.getByRole("button", { name: "EN" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(page.getByLabel("Username")).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  expect(await stillSameDocument(page)).toBe(true);

  // A reload keeps English (cookie), rendered by the server.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "ID" }).click();
  await expect(page.getByRole("heading", { name: "Masuk" })).toBeVisible();
});

test("the catalog filters as you type, without a round trip, and opens a standard", async ({ page }) => {
  await login(page, "petugas");
  await page.getByRole("link", { name: "Katalog Layanan", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Katalog Layanan" })).toBeVisible();
  const rows = page.locator("table.catalog tbody tr");
  await expect(rows).toHaveCount(4);
  await expect(page.locator("#catalog-count")).toHaveText("4 dari 4 layanan");
  await markDocument(page);
  await page.getByLabel("Cari layanan").fill("legalisir");
  await expect(rows).toHaveCount(1);
  await expect(page.locator("#catalog-count")).toHaveText("1 dari 4 layanan");
  await page.getByLabel("Cari layanan").fill("tidak ada layanan begini");
  await expect(page.getByText("Tidak ada layanan yang cocok dengan pencarian.")).toBeVisible();
  await page.getByLabel("Cari layanan").fill("KTP-el orang asing");
  await expect(rows).toHaveCount(1);
  expect(await stillSameDocument(page)).toBe(true);

  await rows.first().getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    "Penerbitan KTP-el Baru bagi Orang Asing Pemegang KITAP/ITAP",
  );
  await expect(page.getByRole("heading", { name: "Persyaratan" })).toBeVisible();
  await expect(page.locator("ol.requirements > li")).toHaveCount(5);
  await expect(page.getByText("1 hari kerja", { exact: true })).toBeVisible();
  await expect(page.locator("ol.procedure ol.sub li")).toHaveCount(4);
  expect(await stillSameDocument(page)).toBe(true);

  // Same page in English.
  await page.getByRole("button", { name: "EN" }).click();
  await expect(page.getByRole("heading", { name: "Requirements" })).toBeVisible();
  await expect(page.getByText("1 working day", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "ID" }).click();
});

test("an unknown address shows the not-found page with status 404", async ({ page }) => {
  const response = await page.goto(`${server().base}/tidak/ada`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Halaman tidak ditemukan" })).toBeVisible();
});

test("the system page shows the box to an installer", async ({ page }) => {
  await login(page, "installer");
  await page.getByRole("link", { name: "Sistem", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Sistem" })).toBeVisible();
  const main = page.locator("main");
  await expect(main.getByText("Kantor Kecamatan Mengwi (51.03.02)")).toBeVisible();
  await expect(main.getByText("WITA", { exact: true })).toBeVisible();
});

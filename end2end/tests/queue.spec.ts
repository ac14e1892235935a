// The queue in three browsers at once: tickets from the kiosk (normal and priority), calls
// from two counters, and the waiting-room display updating live without a reload.
import { addStaff, expect, hydrated, login, markDocument, ownServer, server, stillSameDocument, test } from "./state";

ownServer();

test("kiosk tickets are called at two counters and the display follows live", async ({ browser }) => {
  const s = server();
  const displayContext = await browser.newContext();
  const display = await displayContext.newPage();
  await display.goto(s.display);
  await hydrated(display);
  await markDocument(display);
  await expect(display.locator(".display-live")).toHaveAttribute("data-connected", "true");

  // Two tickets at the kiosk: a normal one and a priority one.
  const kioskContext = await browser.newContext();
  const kiosk = await kioskContext.newPage();
  await kiosk.goto(s.kiosk);
  await hydrated(kiosk);
  const take = async (lane: RegExp) => {
    await kiosk.locator(".kiosk-button").first().click();
    await kiosk.getByRole("button", { name: lane }).click();
    await expect(kiosk.locator("#ticket-slip .ticket-number")).toBeVisible();
    const number = (await kiosk.locator("#ticket-slip .ticket-number").textContent())!.trim();
    await kiosk.getByRole("button", { name: "Ya, tiket sudah saya ambil" }).click();
    await expect(kiosk.locator("#kiosk-number")).toHaveText(number);
    await kiosk.getByRole("button", { name: "Selesai" }).click();
    return number;
  };
  const normal = await take(/^Antrean umum$/);
  const priority = await take(/lansia/);
  expect(normal).toMatch(/^A-\d{3}$/);
  expect(priority).toMatch(/^P-\d{3}$/);
  await expect(display.locator(".display-last p")).toContainText("Menunggu:");

  // Counter 1 (petugas) calls: the priority ticket comes first.
  const counterContext = await browser.newContext();
  const counter = await counterContext.newPage();
  await login(counter, "petugas");
  await counter.getByRole("link", { name: "Loket", exact: true }).click();
  await expect(counter.getByRole("heading", { name: "Loket" })).toBeVisible();
  await counter.locator("#counter-select").selectOption("L1");
  await counter.getByRole("button", { name: "Buka loket" }).click();
  await counter.getByRole("button", { name: "Panggil berikutnya" }).click();
  await expect(counter.locator("#current-number")).toHaveText(priority);

  // The display shows it under Loket 1, live.
  await expect(display.locator(".display-counter").filter({ hasText: "Loket 1" })).toContainText(priority);
  await expect(display.locator("#last-called li").first()).toContainText(priority);
  expect(await stillSameDocument(display)).toBe(true);

  // Counter 2 (the office head) calls the normal ticket.
  const headContext = await browser.newContext();
  const head = await headContext.newPage();
  await login(head, "kepala");
  await head.goto(`${s.base}/loket?loket=L2`);
  await hydrated(head);
  await head.getByRole("button", { name: "Buka loket" }).click();
  await head.getByRole("button", { name: "Panggil berikutnya" }).click();
  await expect(head.locator("#current-number")).toHaveText(normal);
  await expect(display.locator(".display-counter").filter({ hasText: "Loket 2" })).toContainText(normal);

  // The normal ticket's holder does not come to counter 2.
  await head.getByRole("button", { name: "Tidak hadir" }).click();
  await expect(head.locator(".current-ticket")).toHaveCount(0);

  // Served and finished at counter 1; nothing else waits.
  await counter.getByRole("button", { name: "Mulai layani" }).click();
  await counter.getByRole("button", { name: "Selesai" }).click();
  await expect(counter.locator(".current-ticket")).toHaveCount(0);
  await counter.getByRole("button", { name: "Panggil berikutnya" }).click();
  await expect(counter.getByRole("alert")).toHaveText("Tidak ada antrean yang menunggu untuk loket ini.");

  // Counter 1 is Ni Luh's today: another petugas, at another PC, cannot call to it or close it.
  addStaff("petugas.dua", "Made Wirawan", "petugas", "loket-dua-rahasia-2026");
  const secondContext = await browser.newContext();
  const second = await secondContext.newPage();
  await login(second, "petugas.dua", "loket-dua-rahasia-2026");
  await second.goto(`${s.base}/loket?loket=L1`);
  await hydrated(second);
  await expect(second.locator(".counter-state")).toHaveAttribute("data-open", "true");
  await expect(second.locator(".counter-state")).toContainText("Ni Luh Ayu Lestari");
  await second.locator("#call-next").click();
  await expect(second.getByRole("alert")).toContainText("Loket ini sedang dipakai oleh Ni Luh Ayu Lestari");
  const [closing] = await Promise.all([
    second.waitForResponse((r) => r.url().endsWith("/api/counter/open")),
    second.getByRole("button", { name: "Tutup loket" }).click(),
  ]);
  expect(closing.status()).toBe(409);
  await second.reload();
  await hydrated(second);
  await expect(second.locator(".counter-state")).toHaveAttribute("data-open", "true");
  await expect(second.locator(".counter-state")).toContainText("Ni Luh Ayu Lestari");
  await secondContext.close();

  // The holder of the skipped ticket turns up after all: counter 1 calls it again, and the
  // display calls it to Loket 1.
  const skipped = counter.locator("#no-shows li").filter({ hasText: normal });
  await expect(skipped).toBeVisible();
  await skipped.getByRole("button", { name: "Panggil lagi" }).click();
  await expect(counter.locator("#current-number")).toHaveText(normal);
  await expect(counter.locator("#no-shows li")).toHaveCount(0);
  await expect(display.locator(".display-counter").filter({ hasText: "Loket 1" })).toContainText(normal);
  await expect(display.locator("#last-called li").first()).toContainText(normal);
  for (const c of [displayContext, kioskContext, counterContext, headContext]) await c.close();
});

test("a kiosk without a valid token says so", async ({ page }) => {
  await page.goto(`${server().base}/kios?token=salah`);
  await expect(page.getByRole("alert")).toContainText("belum terdaftar sebagai kios");
});

// A whole office day with the hub unreachable: kiosk tickets, calls at two counters with the
// display following live, an intake for each service of the catalog from a called ticket, a
// return for a missing requirement with its rejection slip and the resubmission, verification,
// the biometric step, the centre's answer, hand-over (with the old card withdrawn, copies
// stamped) and the receipts, read back from the PDFs themselves. (A proxy's hand-over is in
// proxy.spec.ts.)
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { APIRequestContext, Page } from "@playwright/test";
import { expect, hydrated, login, markDocument, ownServer, server, stillSameDocument, test, yearsFromToday } from "./state";

ownServer();

const work = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-office-day-"));

// A one-page PDF and a tiny PNG, as a scanner or a camera would give them.
const pdfFile = path.join(work, "kk.pdf");
fs.writeFileSync(pdfFile, "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
const pngFile = path.join(work, "foto.png");
fs.writeFileSync(
  pngFile,
  Buffer.from(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082",
    "hex",
  ),
);
const fakePdf = path.join(work, "bukan-pdf.pdf");
fs.writeFileSync(fakePdf, "MZ this is an executable pretending to be a PDF");

async function pdfText(request: APIRequestContext, url: string): Promise<string> {
  const response = await request.get(url);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toBe("application/pdf");
  const file = path.join(work, `${Date.now()}-${Math.random().toString(16).slice(2)}.pdf`);
  fs.writeFileSync(file, await response.body());
  return execFileSync("pdftotext", ["-layout", file, "-"]).toString();
}

interface Person {
  nik: string;
  name: string;
  sex: "male" | "female";
  birthPlace: string;
  birthDate: string;
  marital: "single" | "married";
  address: string;
  kk: string;
  foreign?: { country: string; passport: string; passportExpires: string; permit: string; permitExpires: string };
}

const citizen: Person = {
  nik: "5103021205900001",
  name: "I Made Contoh",
  sex: "male",
  birthPlace: "Badung",
  birthDate: "1990-05-12",
  marital: "married",
  address: "Jl. Raya Mengwi No. 1, RT 001/RW 002",
  kk: "5103021234567890",
};

const foreigner: Person = {
  nik: "5103025205900002",
  name: "Jane Citizen",
  sex: "female",
  birthPlace: "Perth",
  birthDate: "1990-05-12",
  marital: "married",
  address: "Jl. Raya Kapal No. 7",
  kk: "5103021234567891",
  foreign: {
    country: "AUS",
    passport: "PA1234567",
    passportExpires: yearsFromToday(5),
    permit: "2C11AB1234",
    permitExpires: yearsFromToday(4),
  },
};

async function fillApplicant(page: Page, p: Person) {
  await page.locator("#nik").fill(p.nik);
  await page.locator("#name").fill(p.name);
  await page.locator("#sex").selectOption(p.sex);
  await page.locator("#birth_place").fill(p.birthPlace);
  await page.locator("#birth_date").fill(p.birthDate);
  await page.locator("#marital").selectOption(p.marital);
  await page.locator("#address").fill(p.address);
  await page.locator("#kk_number").fill(p.kk);
  await page.locator("#phone").fill("081234567890");
  if (p.foreign) {
    await page.locator("#foreign").check();
    await page.locator("#country").fill(p.foreign.country);
    await page.locator("#passport_number").fill(p.foreign.passport);
    await page.locator("#passport_expires").fill(p.foreign.passportExpires);
    await page.locator("#permit_number").fill(p.foreign.permit);
    await page.locator("#permit_expires").fill(p.foreign.permitExpires);
  }
}

/** Calls the next ticket at the counter page, starts it, and opens the intake from it. */
async function intakeFromNextTicket(counter: Page): Promise<{ id: string; number: string; ticket: string; person: Person; service: string }> {
  const s = server();
  await counter.goto(`${s.base}/loket?loket=L1`);
  await hydrated(counter);
  await counter.getByRole("button", { name: "Panggil berikutnya" }).click();
  const ticket = (await counter.locator("#current-number").textContent())!.trim();
  await counter.getByRole("button", { name: "Mulai layani" }).click();
  await counter.getByRole("link", { name: "Buat permohonan" }).click();
  await expect(counter.getByRole("heading", { name: "Permohonan baru" })).toBeVisible();
  await expect(counter.locator(".ticket-badge")).toContainText(ticket);
  const service = (await counter.locator("#service option:checked").textContent())!.trim();
  expect(service).not.toBe("");
  const person = /asing/i.test(service) ? foreigner : citizen;
  await fillApplicant(counter, person);
  await counter.locator("#open-application").click();
  await expect(counter).toHaveURL(/\/permohonan\/[0-9a-f-]{36}$/);
  await hydrated(counter);
  const id = counter.url().split("/").pop()!;
  const number = (await counter.locator("#app-number").textContent())!.trim();
  expect(number).toMatch(/^510302-\d{8}-\d{4}$/);
  return { id, number, ticket, person, service };
}

/** Completes every checklist line: files for documents, a tick for what is checked by eye. */
async function completeChecklist(page: Page) {
  const lines = page.locator("ol.checklist > li");
  const count = await lines.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const line = page.locator(`#syarat-${i}`);
    if ((await line.getAttribute("data-met")) === "true") continue;
    const confirm = page.locator(`#confirm-${i}`);
    if ((await confirm.count()) > 0) {
      await confirm.check();
      await expect(page.locator(`#syarat-${i}`)).toHaveAttribute("data-met", "true");
    } else {
      await line.locator('input[type="file"]').setInputFiles(pdfFile);
      await line.getByRole("button", { name: "Unggah" }).click();
      await expect(page.locator("#upload-result")).toHaveText("Berkas tersimpan.");
      await hydrated(page);
      await expect(page.locator(`#syarat-${i}`)).toHaveAttribute("data-met", "true");
    }
  }
}

async function step(page: Page, action: string, status: string) {
  await page.locator(`#step-${action}`).click();
  await expect(page.locator("#app-status")).toHaveAttribute("data-status", status);
  await hydrated(page);
}

async function open(page: Page, id: string) {
  await page.goto(`${server().base}/permohonan/${id}`);
  await hydrated(page);
}

test("an office day, offline: queue, intake for every service, return, verification, hand-over, receipts", async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const s = server();
  const contexts = await Promise.all([1, 2, 3, 4, 5].map(() => browser.newContext()));
  const [displayCtx, kioskCtx, counterCtx, verifierCtx, headCtx] = contexts;

  // The waiting-room display, live.
  const display = await displayCtx.newPage();
  await display.goto(s.display);
  await hydrated(display);
  await markDocument(display);
  await expect(display.locator(".display-live")).toHaveAttribute("data-connected", "true");

  // Staff log in. The hub is unreachable all day.
  const counter = await counterCtx.newPage();
  await login(counter, "petugas");
  await expect(counter.getByRole("status").filter({ hasText: /^Luring/ })).toBeVisible();
  const verifier = await verifierCtx.newPage();
  await login(verifier, "verifikator");
  const head = await headCtx.newPage();
  await login(head, "kepala");

  // The kiosk: one ticket per service (a priority one first), as applicants arrive.
  const kiosk = await kioskCtx.newPage();
  await kiosk.goto(s.kiosk);
  await hydrated(kiosk);
  const services = await kiosk.locator(".kiosk-button").count();
  expect(services).toBe(4);
  const tickets: string[] = [];
  for (let i = 0; i < services; i++) {
    await kiosk.locator(".kiosk-button").nth(i).click();
    await kiosk.getByRole("button", { name: i === 0 ? /lansia/ : /^Antrean umum$/ }).click();
    const number = (await kiosk.locator("#ticket-slip .ticket-number").textContent())!.trim();
    await kiosk.getByRole("button", { name: "Ya, tiket sudah saya ambil" }).click();
    await kiosk.getByRole("button", { name: "Selesai" }).click();
    tickets.push(number);
  }
  expect(tickets[0]).toMatch(/^P-\d{3}$/);

  // Counter 1 (petugas) and counter 2 (kepala) are open; kepala calls at counter 2 and hands
  // the ticket on to counter 1, where the petugas takes every intake.
  // This spec's server is its own: counter 1 is closed until the petugas opens it.
  await counter.goto(`${s.base}/loket?loket=L1`);
  await hydrated(counter);
  await counter.getByRole("button", { name: "Buka loket" }).click();
  await expect(counter.getByRole("button", { name: "Panggil berikutnya" })).toBeVisible();

  // Service by service, from a called ticket.
  const done: Record<string, { id: string; number: string }> = {};
  const handed = { reissue: 0, legalisation: 0 };
  for (let i = 0; i < services; i++) {
    const app = await intakeFromNextTicket(counter);
    const { person, service } = app;
    const foreign = person === foreigner;
    await expect(display.locator(".display-counter").filter({ hasText: "Loket 1" })).toContainText(app.ticket);
    done[service] = app;

    // A file that is not what its name says is refused, and nothing is attached.
    if (foreign) {
      await expect(counter.locator("#card-expiry")).toContainText(foreigner.foreign!.permitExpires);
      const first = counter.locator("ol.checklist > li").filter({ has: counter.locator('input[type="file"]') }).first();
      await first.locator('input[type="file"]').setInputFiles(fakePdf);
      await first.getByRole("button", { name: "Unggah" }).click();
      await expect(counter.locator("#upload-result")).toContainText("Hanya PDF, JPEG, atau PNG");
      await hydrated(counter);
      // Submitting with requirements missing is refused with their numbers.
      await counter.locator("#step-submit").click();
      await expect(counter.locator("#step-error")).toContainText("Persyaratan belum lengkap");
    }
    await completeChecklist(counter);
    await step(counter, "submit", "submitted");

    if (foreign) {
      // The verifier returns it: the first requirement is not legible.
      await open(verifier, app.id);
      await verifier.locator("#ret-0").check();
      await verifier.locator("#reason-0").fill("Fotokopi paspor tidak terbaca, mohon dipindai ulang");
      await step(verifier, "return", "returned");
      const slip = await pdfText(verifier.request, `${s.base}/dokumen/permohonan/${app.id}/pengembalian.pdf`);
      expect(slip).toContain("SURAT PENGEMBALIAN BERKAS");
      expect(slip).toContain(app.number);
      expect(slip).toContain("Fotokopi paspor tidak terbaca");
      // The counter sees why, attaches a new scan and resubmits the same application.
      await open(counter, app.id);
      await expect(counter.locator("#syarat-0")).toContainText("Dikembalikan: Fotokopi paspor tidak terbaca");
      // Sending it back unchanged is refused: the returned scan needs a new one.
      await counter.locator("#step-resubmit").click();
      await expect(counter.locator("#step-error")).toContainText("Persyaratan belum lengkap: nomor 1");
      await expect(counter.locator("#app-status")).toHaveAttribute("data-status", "returned");
      await counter.locator("#syarat-0 input[type=file]").setInputFiles(pngFile);
      await counter.locator("#syarat-0").getByRole("button", { name: "Unggah" }).click();
      await expect(counter.locator("#upload-result")).toHaveText("Berkas tersimpan.");
      await hydrated(counter);
      await step(counter, "resubmit", "submitted");
      expect(await counter.locator("#app-number").textContent()).toBe(app.number);
    }

    // Verified complete.
    await open(verifier, app.id);
    await step(verifier, "verify", "verified");
    await open(counter, app.id);

    // Of the demo services only the foreign resident's new KTP-el records biometrics here.
    await expect(counter.locator("#biometrik")).toHaveCount(foreign ? 1 : 0);
    if (foreign) {
      // The biometric step: photo and signature uploaded; fingerprints and iris wait for devices.
      await expect(counter.locator("#biometrik")).toContainText("Tanpa perangkat");
      for (const kind of ["foto", "tanda-tangan"]) {
        await counter.locator(`#upload-${kind} input[type=file]`).setInputFiles(pngFile);
        await counter.locator(`#upload-${kind}`).getByRole("button", { name: "Unggah" }).click();
        await expect(counter.locator("#upload-result")).toHaveText("Berkas tersimpan.");
        await hydrated(counter);
      }
      await step(counter, "record_biometrics", "biometrics_recorded");
      await expect(counter.locator('[data-modality="fingerprint"]')).toContainText("tidak direkam (tanpa perangkat)");
      // The centre's steps, recorded by the office head (the hub relays them once linked).
      await open(head, app.id);
      await step(head, "send_for_identification", "sent_for_identification");
      await expect(head.locator("#app-sla")).toHaveText("Menunggu pusat (waktu berhenti)");
      await step(head, "identified_single", "ready_to_print");
      await open(counter, app.id);
    }
    await step(counter, "produce", "ready");

    // Hand-over, with what each service needs (each such check is counted below, so that a
    // changed service title cannot make it vanish).
    const serviceTitle = service.toLowerCase();
    if (serviceTitle.includes("perubahan")) {
      // A reissue without withdrawing the old card is refused.
      await counter.locator("#step-hand_over").click();
      await expect(counter.locator("#step-error")).toContainText("KTP-el lama harus ditarik");
      await counter.locator("#withdrawn_serial").fill("KTP-0012345");
      await counter.locator("#withdrawn_reason").fill("Perubahan data");
      handed.reissue += 1;
      await counter.locator("#withdrawn_disposition").fill("Digunting dan disimpan");
    }
    if (serviceTitle.includes("legalisir")) {
      await counter.locator("#copies").fill("3");
      handed.legalisation += 1;
    }
    await step(counter, "hand_over", "handed_over");
    const receipt = await pdfText(counter.request, `${s.base}/dokumen/permohonan/${app.id}/tanda-terima.pdf`);
    expect(receipt).toContain("TANDA TERIMA / BUKTI PENGAMBILAN");
    expect(receipt).toContain(app.number);
    expect(receipt).toContain(person.name);
    expect(receipt).not.toContain(person.nik); // the NIK is masked on paper
    if (serviceTitle.includes("perubahan")) expect(receipt).toContain("KTP-0012345");
    if (serviceTitle.includes("legalisir")) expect(receipt).toContain("3 lembar");

    // The ticket is finished at the counter.
    await counter.goto(`${s.base}/loket?loket=L1`);
    await hydrated(counter);
    await counter.getByRole("button", { name: "Selesai" }).click();
    await expect(counter.locator(".current-ticket")).toHaveCount(0);
  }
  expect(Object.keys(done).length).toBe(4);
  expect(handed).toEqual({ reissue: 1, legalisation: 1 });
  await counter.getByRole("button", { name: "Tutup loket" }).click();
  await expect(counter.getByRole("button", { name: "Buka loket" })).toBeVisible();

  // The display stayed live all day, without a reload.
  expect(await stillSameDocument(display)).toBe(true);

  // The office head's dashboard: today's throughput and queue figures.
  await head.goto(`${s.base}/`);
  await hydrated(head);
  expect(Number(await head.locator("#fig-handed").textContent())).toBeGreaterThanOrEqual(4);
  // By the names staff know: the counter's name, the lane, the service's title, not ids.
  await expect(head.locator('#queue-figures td[data-key="L1"]')).toHaveText("Loket 1");
  await expect(head.locator('#queue-figures td[data-key="priority"]')).toHaveText("Jalur prioritas");
  await expect(head.locator("#queue-figures tbody")).not.toContainText(/[0-9a-f]{8}-[0-9a-f]{4}-/);

  // The lists: nothing of today's work is still open for verification.
  await verifier.goto(`${s.base}/permohonan?daftar=closed`);
  await hydrated(verifier);
  for (const app of Object.values(done)) await expect(verifier.getByRole("link", { name: app.number })).toBeVisible();

  // A citizen comes back with a receipt: the application is found by its number; a NIK with no
  // application finds nothing.
  const one = Object.values(done)[0];
  await verifier.locator("#app-search").fill(one.number);
  await verifier.locator("#app-search-go").click();
  await expect(verifier.locator("#search-results")).toHaveAttribute("data-q", one.number);
  await expect(verifier.locator("#search-results").getByRole("link", { name: one.number })).toBeVisible();
  await expect(verifier.locator("#search-results tbody tr")).toHaveCount(1);
  await verifier.locator("#app-search").fill("9999999999999999");
  await verifier.locator("#app-search-go").click();
  await expect(verifier.locator("#search-results")).toContainText("Tidak ada permohonan");

  for (const c of contexts) await c.close();
});

test("intake refuses an invalid applicant with a message at each field, and a double submit opens one application", async ({
  page,
}) => {
  const s = server();
  await login(page, "petugas");
  await page.goto(`${s.base}/permohonan/baru`);
  await hydrated(page);
  await page.locator("#service").selectOption({ index: 2 });
  await fillApplicant(page, { ...citizen, nik: "5103021205900000", birthDate: "2099-01-01" });
  await page.locator("#open-application").click();
  await expect(page.locator(".field.invalid #nik")).toBeVisible();
  await expect(page.locator(".field.invalid #birth_date")).toBeVisible();
  await expect(page.getByRole("alert").first()).toBeVisible();

  // Corrected, then submitted twice quickly: one application.
  await page.goto(`${s.base}/permohonan?daftar=all`);
  await hydrated(page);
  const before = await page.locator("table.applications tbody tr").count();
  await page.goto(`${s.base}/permohonan/baru`);
  await hydrated(page);
  await page.locator("#service").selectOption({ index: 2 });
  await fillApplicant(page, citizen);
  await page.locator("#open-application").dblclick();
  await expect(page).toHaveURL(/\/permohonan\/[0-9a-f-]{36}$/);
  await page.goto(`${s.base}/permohonan?daftar=all`);
  await hydrated(page);
  await expect(page.locator("table.applications tbody tr")).toHaveCount(before + 1);
});

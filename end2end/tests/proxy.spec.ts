// An applicant who cannot come: a proxy brings the application with a power of attorney
// (surat kuasa) that names what they may do and until when. At hand-over the power is checked
// again: a stranger is refused, the proxy takes the documents, and the receipt says so. On the
// way, the applicant's data is corrected before submission. An applicant who came in person
// may later send someone with a power of attorney shown only at pick-up.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Browser, Page } from "@playwright/test";
import { expect, hydrated, login, ownServer, server, test } from "./state";

ownServer();

const work = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-proxy-"));
const pdfFile = path.join(work, "ktp.pdf");
fs.writeFileSync(pdfFile, "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

function day(offset: number): string {
  const d = new Date(Date.now() + offset * 86_400_000);
  return d.toISOString().slice(0, 10);
}

async function step(page: Page, action: string, status: string) {
  await page.locator(`#step-${action}`).click();
  await expect(page.locator("#app-status")).toHaveAttribute("data-status", status);
  await hydrated(page);
}

/** The intake form of a legalisation for a married man born in Badung on 12 May 1990. */
async function fillApplicant(page: Page, a: { nik: string; name: string; address: string; kk: string; phone: string }) {
  await page.goto(`${server().base}/permohonan/baru`);
  await hydrated(page);
  const options = await page.locator("#service option").allTextContents();
  await page.locator("#service").selectOption({ label: options.find((o) => /legalisir/i.test(o))! });
  await page.locator("#nik").fill(a.nik);
  await page.locator("#name").fill(a.name);
  await page.locator("#sex").selectOption("male");
  await page.locator("#birth_place").fill("Badung");
  await page.locator("#birth_date").fill("1990-05-12");
  await page.locator("#marital").selectOption("married");
  await page.locator("#address").fill(a.address);
  await page.locator("#kk_number").fill(a.kk);
  await page.locator("#phone").fill(a.phone);
}

/** Every requirement met: conditions confirmed, documents uploaded. */
async function meetRequirements(page: Page) {
  const lines = page.locator("ol.checklist > li");
  for (let i = 0; i < (await lines.count()); i++) {
    if ((await page.locator(`#syarat-${i}`).getAttribute("data-met")) === "true") continue;
    if ((await page.locator(`#confirm-${i}`).count()) > 0) {
      await page.locator(`#confirm-${i}`).check();
    } else {
      await page.locator(`#syarat-${i} input[type="file"]`).setInputFiles(pdfFile);
      await page.locator(`#syarat-${i}`).getByRole("button", { name: "Unggah" }).click();
      await expect(page.locator("#upload-result")).toHaveText("Berkas tersimpan.");
      await hydrated(page);
    }
    await expect(page.locator(`#syarat-${i}`)).toHaveAttribute("data-met", "true");
  }
}

/** Verified by the verifier, then produced at the counter: ready to hand over. */
async function verifyAndProduce(browser: Browser, counter: Page, id: string) {
  const verifier = await (await browser.newContext()).newPage();
  await login(verifier, "verifikator");
  await verifier.goto(`${server().base}/permohonan/${id}`);
  await hydrated(verifier);
  await step(verifier, "verify", "verified");
  await counter.goto(`${server().base}/permohonan/${id}`);
  await hydrated(counter);
  await step(counter, "produce", "ready");
}

test("a proxy with a power of attorney submits and picks up; a stranger cannot pick up", async ({ browser }) => {
  test.setTimeout(120_000);
  const s = server();
  const counter = await (await browser.newContext()).newPage();
  await login(counter, "petugas");
  await fillApplicant(counter, {
    nik: "5103021205900003",
    name: "I Nyoman Sakit",
    address: "Jl. Raya Mengwi No. 3",
    kk: "5103021234567893",
    phone: "081234567890",
  });
  // The proxy: who, what they may do, for how long, and why.
  await counter.locator("#with-proxy").check();
  await counter.locator("#proxy_nik").fill("5103024407850002");
  await counter.locator("#proxy_name").fill("Ni Kadek Kuasa");
  await counter.locator("#proxy_valid_from").fill(day(0));
  await counter.locator("#proxy_valid_until").fill(day(30));
  await counter.locator("#proxy_reason").fill("Pemohon dirawat di rumah sakit");
  await counter.locator("#proxy_pickup").check();
  await counter.locator("#open-application").click();
  await expect(counter).toHaveURL(/\/permohonan\/[0-9a-f-]{36}$/);
  await hydrated(counter);
  const id = counter.url().split("/").pop()!;
  await expect(counter.locator("body")).toContainText("Ni Kadek Kuasa (5103024407850002)");

  // A correction before submission: a birth date in the future is refused and changes nothing;
  // the corrected name is kept, in the record and on the page.
  await counter.locator("#edit-applicant").click();
  await counter.locator(".edit-applicant #birth_date").fill(day(10));
  await counter.getByRole("button", { name: "Simpan data pemohon" }).click();
  await expect(counter.locator(".edit-applicant")).toContainText("Tanggal di masa depan");
  await expect(counter.locator("#applicant-facts")).toContainText("Badung, 1990-05-12");
  await counter.locator(".edit-applicant #birth_date").fill("1990-05-12");
  await counter.locator(".edit-applicant #name").fill("I Nyoman Sakit Keras");
  await counter.getByRole("button", { name: "Simpan data pemohon" }).click();
  await expect(counter.locator("#applicant-facts")).toContainText("I Nyoman Sakit Keras");
  await counter.reload();
  await hydrated(counter);
  await expect(counter.locator("#applicant-facts")).toContainText("I Nyoman Sakit Keras");

  // Requirements, submission, verification, production.
  await meetRequirements(counter);
  await step(counter, "submit", "submitted");
  // Submitted: the applicant's data can no longer be changed here.
  await expect(counter.locator("#edit-applicant")).toHaveCount(0);
  await verifyAndProduce(browser, counter, id);

  // Someone the power of attorney does not name is refused; nothing is handed over.
  await counter.locator("#recipient_nik").fill("5103021508800004");
  await counter.locator("#copies").fill("2");
  await counter.locator("#step-hand_over").click();
  await expect(counter.locator("#step-error")).toContainText("Surat kuasa tidak berlaku");
  await expect(counter.locator("#app-status")).toHaveAttribute("data-status", "ready");
  // The proxy named in it takes the stamped copies.
  await counter.locator("#recipient_nik").fill("5103024407850002");
  await step(counter, "hand_over", "handed_over");
  const response = await counter.request.get(`${s.base}/dokumen/permohonan/${id}/tanda-terima.pdf`);
  expect(response.status()).toBe(200);
  const file = path.join(work, "tanda-terima.pdf");
  fs.writeFileSync(file, await response.body());
  const receipt = execFileSync("pdftotext", ["-layout", file, "-"]).toString();
  expect(receipt).toContain("Kuasa: Ni Kadek Kuasa");
  expect(receipt).not.toContain("5103024407850002"); // the proxy's NIK is masked on paper too
  expect(receipt).toContain("2 lembar");
});

test("the applicant applied in person and sends someone with a power of attorney to pick up", async ({ browser }) => {
  test.setTimeout(120_000);
  const s = server();
  const counter = await (await browser.newContext()).newPage();
  await login(counter, "petugas");
  await fillApplicant(counter, {
    nik: "5103021205900005",
    name: "I Wayan Datang Sendiri",
    address: "Jl. Raya Mengwi No. 5",
    kk: "5103021234567895",
    phone: "081234567891",
  });
  await counter.locator("#open-application").click();
  await expect(counter).toHaveURL(/\/permohonan\/[0-9a-f-]{36}$/);
  await hydrated(counter);
  const id = counter.url().split("/").pop()!;
  await meetRequirements(counter);
  await step(counter, "submit", "submitted");
  await verifyAndProduce(browser, counter, id);

  // Nobody was named at intake: the person sent is refused until they show a power of attorney.
  await counter.locator("#recipient_nik").fill("5103024101950006");
  await counter.locator("#copies").fill("1");
  await counter.locator("#step-hand_over").click();
  await expect(counter.locator("#step-error")).toBeVisible();
  await expect(counter.locator("#app-status")).toHaveAttribute("data-status", "ready");
  // One that expired yesterday is refused too.
  await counter.locator("#pickup-proxy summary").click();
  await counter.locator("#pickup_name").fill("Ni Luh Utusan");
  await counter.locator("#pickup_valid_until").fill(day(-1));
  await counter.locator("#pickup_reason").fill("Pemohon bekerja di luar kota");
  await counter.locator("#step-hand_over").click();
  await expect(counter.locator("#step-error")).toContainText("Surat kuasa tidak berlaku");
  await expect(counter.locator("#app-status")).toHaveAttribute("data-status", "ready");
  await counter.locator("#pickup_valid_until").fill(day(7));
  await step(counter, "hand_over", "handed_over");
  const response = await counter.request.get(`${s.base}/dokumen/permohonan/${id}/tanda-terima.pdf`);
  const file = path.join(work, "tanda-terima-utusan.pdf");
  fs.writeFileSync(file, await response.body());
  const receipt = execFileSync("pdftotext", ["-layout", file, "-"]).toString();
  expect(receipt).toContain("Kuasa: Ni Luh Utusan");
  expect(receipt).not.toContain("5103024101950006");
});

// A hub and two boxes of the same office as real processes with mutual TLS. Both boxes correct
// the same applicant's name before either has synced; the hub finds the conflict, the regency
// admin settles it in the inbox with a reason, and the box shows the result to its staff.
import { ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { APIRequestContext, Page, request } from "@playwright/test";
import { cleanEnv, startSimpul, stopSimpul } from "./simpul";
import { expect, hydrated, test } from "./state";

const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../../target/release/simpul");

interface Box {
  base: string;
  passwords: Record<string, string>;
  console: string;
  child: ChildProcess;
  stderrFile: string;
  dir: string;
}

const started: Box[] = [];

function envFor(dir: string, extra: Record<string, string> = {}) {
  return {
    ...cleanEnv(),
    SIMPUL_LISTEN: "127.0.0.1:0",
    SIMPUL_DATA_DIR: path.join(dir, "data"),
    RUST_LOG: "warn",
    ...extra,
  } as Record<string, string>;
}

async function start(dir: string, extra: Record<string, string>): Promise<Box> {
  const box = { ...(await startSimpul(binary, dir, envFor(dir, extra))), dir };
  started.push(box);
  return box;
}

async function api(box: Box, username: string): Promise<{ ctx: APIRequestContext; csrf: string }> {
  const ctx = await request.newContext({ baseURL: box.base });
  let session = await (await ctx.get("/api/session")).json();
  const login = await ctx.post("/api/login", {
    form: { csrf: session.csrf, username, password: box.passwords[username] },
    maxRedirects: 0,
  });
  expect(login.status()).toBeLessThan(400);
  session = await (await ctx.get("/api/session")).json();
  return { ctx, csrf: session.csrf };
}

async function syncNow(box: Box) {
  const { ctx, csrf } = await api(box, "kepala");
  const before = (await (await ctx.get("/api/sinkron")).json()).sessions;
  expect((await ctx.post("/api/sinkron/sekarang", { form: { csrf } })).ok()).toBeTruthy();
  await expect
    .poll(async () => {
      const s = await (await ctx.get("/api/sinkron")).json();
      return !s.running && s.sessions > before && s.last_error === null;
    }, { timeout: 20_000 })
    .toBeTruthy();
  await ctx.dispose();
}

function applicant(name: string) {
  return {
    nik: "5103021205900001", name, sex: "male", birth_place: "Badung", birth_date: "1990-05-12",
    marital: "married", address: "Jl. Raya Mengwi 1", region: "51.03.02", kk_number: "5103021234567890",
    foreign: false, country: "", passport_number: "", passport_expires: "", permit_kind: "", permit_number: "",
    permit_expires: "", phone: "081234567890", email: "contoh@example.org",
  };
}

async function loginPage(page: Page, box: Box, username: string) {
  await page.goto(`${box.base}/masuk`);
  await hydrated(page);
  await page.getByLabel(/Nama pengguna|Username/).fill(username);
  await page.getByLabel(/Kata sandi|Password/).fill(box.passwords[username]);
  await page.getByRole("button", { name: /^(Masuk|Log in)$/ }).click();
  await expect(page).toHaveURL(`${box.base}/`);
}

test.afterAll(async () => {
  // Every server stops (the hub killed mid-test is already gone); a panic in any fails the spec.
  const panics: string[] = [];
  for (const b of started) {
    try {
      await stopSimpul(b);
    } catch (e) {
      panics.push(String(e));
    }
    fs.rmSync(b.dir, { recursive: true, force: true });
  }
  expect(panics).toEqual([]);
});

test("the regency admin settles a conflict and the box shows the decision", async ({ page }) => {
  test.setTimeout(180_000);
  const hubDir = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-hub-"));
  const hub = await start(hubDir, { SIMPUL_ROLE: "hub", SIMPUL_HUB__SYNC_LISTEN: "127.0.0.1:0" });
  const syncUrl = hub.console.match(/listening on (https:\/\/\S+)/)![1];
  // The regency admin makes one enrollment token in the UI; the other comes from the CLI.
  await loginPage(page, hub, "adminkab");
  await page.getByRole("link", { name: /Kotak Kantor|Office boxes/ }).click();
  await page.getByLabel(/Kode kecamatan|Kecamatan code/).fill("51.03.02");
  await page.getByRole("button", { name: /Buat token|Create enrollment token/ }).click();
  const uiToken = (await page.locator("#enroll-token").textContent())!.trim();
  expect(uiToken).toMatch(/^SPL1\./);
  // Two boxes of the same office; they sync only when told to, so their edits are concurrent.
  const boxes: Box[] = [];
  for (const name of ["a", "b"]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `simpul-box-${name}-`));
    const token =
      name === "a"
        ? uiToken
        : execFileSync(binary, ["enroll", "token", "create", "--office", "51.03.02"], {
            env: envFor(hubDir, { SIMPUL_ROLE: "hub" }),
          })
            .toString()
            .trim()
            .split("\n")
            .pop()!;
    execFileSync(binary, ["enroll", "--hub", syncUrl, "--token", token], { env: envFor(dir) });
    boxes.push(await start(dir, { SIMPUL_HUB__SYNC_INTERVAL_SECS: "3600", SIMPUL_HUB__RETRY_MAX_SECS: "3600" }));
  }
  const [a, b] = boxes;

  // Box A takes the application; it reaches the hub and box B.
  const counterA = await api(a, "petugas");
  const intake = await (await counterA.ctx.get("/api/permohonan/intake")).json();
  const service = intake.services.find((s: any) => s.kind === "ikd_activation").id;
  const opened = await counterA.ctx.post("/api/permohonan/buka", {
    data: { csrf: counterA.csrf, client_id: "e2e-sync-1", form: { service_id: service, ticket: null, proxy: null, applicant: applicant("I Made Contoh") } },
  });
  expect(opened.ok()).toBeTruthy();
  const id: string = await opened.json();
  await syncNow(a);
  await syncNow(b);
  const counterB = await api(b, "petugas");
  expect((await counterB.ctx.get(`/api/permohonan/detail?id=${id}`)).ok()).toBeTruthy();

  // Both boxes correct the name, differently, before either syncs.
  for (const [counter, name] of [[counterA, "I Made Contoh Saja"], [counterB, "I Made Kontoh"]] as const) {
    const r = await counter.ctx.post("/api/permohonan/pemohon", {
      data: { csrf: counter.csrf, id, applicant: applicant(name) },
    });
    expect(r.ok(), await r.text()).toBeTruthy();
  }
  await syncNow(a);
  await syncNow(b);

  // Box B now holds both names: the record waits for the regency admin, offers no step and
  // takes no edit (an edit would silently pick one of the names).
  const waiting = await (await counterB.ctx.get(`/api/permohonan/detail?id=${id}`)).json();
  expect(waiting.awaiting_decision).toEqual(["applicant.name"]);
  expect(waiting.actions).toEqual([]);
  const refused = await counterB.ctx.post("/api/permohonan/pemohon", {
    data: { csrf: counterB.csrf, id, applicant: applicant("I Made Lain Lagi") },
  });
  expect(refused.ok()).toBeFalsy();
  expect(await refused.text()).toContain("AwaitingDecision");

  // Both boxes are listed as enrolled for the office.
  await page.reload();
  await hydrated(page);
  await expect(page.locator("table.grid tbody tr")).toHaveCount(2);
  // The regency admin sees both values side by side and settles the case.
  await page.getByRole("link", { name: /Konflik Data|Data conflicts/ }).click();
  const kase = page.locator("article.case[data-field='applicant.name']");
  await expect(kase).toBeVisible();
  await expect(kase).toContainText("I Made Contoh Saja");
  await expect(kase).toContainText("I Made Kontoh");
  await expect(kase).toContainText("51.03.02");
  await kase.getByLabel("I Made Contoh Saja").check();
  const settle = kase.getByRole("button", { name: /Putuskan|Decide/ });
  await expect(settle).toBeDisabled();
  await kase.getByLabel(/Alasan|Reason/).fill("Sesuai KTP-el dan KK asli");
  await settle.click();
  await expect(page.locator("#no-conflicts")).toBeVisible();

  // The decision travels back; box B's staff see it on the record.
  await syncNow(b);
  await loginPage(page, b, "petugas");
  // The petugas who corrected the name on box B is told on their dashboard, and the notice
  // leads to the record; once opened, it is read.
  await page.goto(`${b.base}/`);
  await hydrated(page);
  const settled = page.locator(`#dash-settled li[data-settled="${id}"]`);
  await expect(settled).toContainText("Nama");
  await settled.getByRole("link").click();
  await expect(page).toHaveURL(`${b.base}/permohonan/${id}`);
  await hydrated(page);
  const notice = page.locator("#resolutions");
  await expect(notice).toContainText("I Made Contoh Saja");
  await expect(notice).toContainText("Sesuai KTP-el dan KK asli");
  const detail = await (await counterB.ctx.get(`/api/permohonan/detail?id=${id}`)).json();
  expect(detail.applicant.name).toBe("I Made Contoh Saja");
  await page.goto(`${b.base}/`);
  await hydrated(page);
  await expect(page.locator("#dash-figures, section.figures").first()).toBeVisible();
  await expect(page.locator("#dash-settled")).toHaveCount(0);
  await counterA.ctx.dispose();
  await counterB.ctx.dispose();

  // A lost box is revoked alone: the office's other box stays enrolled.
  await loginPage(page, hub, "adminkab");
  await page.getByRole("link", { name: /Kotak Kantor|Office boxes/ }).click();
  const listed = page.locator("table.grid tbody tr");
  await expect(listed).toHaveCount(2);
  await listed.first().getByRole("button", { name: /^(Cabut|Revoke)$/ }).click();
  await expect(listed.filter({ hasText: /Dicabut|Revoked/ })).toHaveCount(1);
  await expect(page.getByRole("button", { name: /^(Cabut|Revoke)$/ })).toHaveCount(1);

  // The hub goes away: the box's office head asks for a sync and is told why it failed, in
  // Indonesian, with the technical detail beside it.
  hub.child.kill("SIGKILL");
  const head = await (await page.context().browser()!.newContext()).newPage();
  await loginPage(head, b, "kepala");
  await head.goto(`${b.base}/sistem`);
  await hydrated(head);
  await head.getByRole("button", { name: "Sinkronkan sekarang" }).click();
  // The box's certificate, issued at enrollment for two years, says when it ends.
  // Two years from the box's clock (which is this machine's), not a calendar year.
  const ends = new Date(Date.now() + 730 * 24 * 3600 * 1000);
  await expect(head.locator("#sync-certificate")).toContainText(String(ends.getUTCFullYear()));
  await expect(head.locator("#sync-certificate")).not.toHaveClass(/warning/);
  const why = head.locator("#sync-error");
  await expect(why).toHaveAttribute("data-code", "unreachable", { timeout: 20_000 });
  await expect(why).toContainText("Hub tidak dapat dihubungi");
  await head.context().close();
});

// Starts `simpul serve` from a fresh temporary directory on a free port, reads its address and
// the demo accounts from its console, and leaves them in a state file for the tests.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { STATE_FILE } from "./tests/state";

export default async function globalSetup() {
  const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../target/release/simpul");
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} not found: build the release binary first (scripts/test.sh does)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-e2e-"));
  const child = spawn(binary, ["serve"], {
    cwd: dir,
    // The hub is configured but unreachable (nothing listens on the discard port): the whole
    // suite, the office day included, runs with the link down.
    env: {
      ...process.env,
      SIMPUL_LISTEN: "127.0.0.1:0",
      SIMPUL_DATA_DIR: path.join(dir, "data"),
      SIMPUL_HUB__URL: "http://127.0.0.1:9",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
    detached: false,
  });
  const console = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`simpul did not start:\n${out}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/Simpul is listening on http:\/\/\S+/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on("exit", (code) => reject(new Error(`simpul exited with ${code}:\n${out}`)));
  });
  child.stdout!.on("data", () => {});
  const base = console.match(/Simpul is listening on (http:\/\/\S+)/)![1];
  const passwords: Record<string, string> = {};
  for (const line of console.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 3 && /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/.test(cols[2])) passwords[cols[1]] = cols[2];
  }
  const kiosk = console.match(/kiosk:\s+(\S+)/)?.[1] ?? "";
  const display = console.match(/display:\s+(\S+)/)?.[1] ?? "";
  fs.writeFileSync(STATE_FILE, JSON.stringify({ base, passwords, kiosk, display, pid: child.pid, dir }));
  child.unref();
}

// Starts `simpul serve` from a fresh temporary directory on a free port, reads its address and
// the demo accounts from its console, and leaves them in a state file for the tests.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimpul } from "./tests/simpul";
import { STATE_FILE } from "./tests/state";

export default async function globalSetup() {
  const binary = process.env.SIMPUL_BIN ?? path.resolve(__dirname, "../target/release/simpul");
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} not found: build the release binary first (scripts/test.sh does)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "simpul-e2e-"));
  // The hub is configured but unreachable (nothing listens on the discard port): the whole
  // suite, the office day included, runs with the link down.
  const { base, passwords, console, child } = await startSimpul(binary, dir, {
    ...process.env,
    SIMPUL_LISTEN: "127.0.0.1:0",
    SIMPUL_DATA_DIR: path.join(dir, "data"),
    SIMPUL_HUB__URL: "http://127.0.0.1:9",
    RUST_LOG: "warn",
  } as Record<string, string>);
  const kiosk = console.match(/kiosk:\s+(\S+)/)?.[1] ?? "";
  const display = console.match(/display:\s+(\S+)/)?.[1] ?? "";
  fs.writeFileSync(STATE_FILE, JSON.stringify({ base, passwords, kiosk, display, pid: child.pid, dir }));
  child.unref();
}

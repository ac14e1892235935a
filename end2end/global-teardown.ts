// Stops the server started by global-setup.ts and removes its directory.
import * as fs from "node:fs";
import { STATE_FILE } from "./tests/state";

export default async function globalTeardown() {
  if (!fs.existsSync(STATE_FILE)) return;
  const state = JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
  try {
    process.kill(state.pid, "SIGTERM");
  } catch {
    // already gone
  }
  fs.rmSync(state.dir, { recursive: true, force: true });
  fs.rmSync(STATE_FILE, { force: true });
}

// Checks that the binary the specs run is there; each spec file starts its own server from it
// (see tests/state.ts).
import * as fs from "node:fs";
import { binary } from "./tests/state";

export default async function globalSetup() {
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} not found: build the release binary first (scripts/test.sh does)`);
  }
}

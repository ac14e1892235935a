// Starts `simpul serve` as a process and reads what it prints: its address, the demo accounts
// and devices. Its stderr goes on to the runner's and into a file beside its data, so that
// stopping it can fail the run when it printed a panic. Shared by the global setup and the
// specs that run their own hub and boxes.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Started {
  base: string;
  passwords: Record<string, string>;
  console: string;
  child: ChildProcess;
  /** Where the server's stderr is kept. */
  stderrFile: string;
}

/** This process's environment without any `SIMPUL_*` setting: a test states what its servers
 *  and commands get. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SIMPUL_") && v !== undefined) env[k] = v;
  return env;
}

export async function startSimpul(binary: string, dir: string, env: Record<string, string>): Promise<Started> {
  const stderrFile = path.join(dir, "simpul-stderr.log");
  const child = spawn(binary, ["serve"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  child.stderr!.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    fs.appendFileSync(stderrFile, chunk);
  });
  const out = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`simpul did not start:\n${text}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (/Simpul is listening on http:\/\/\S+/.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    child.on("exit", (code) => reject(new Error(`simpul exited with ${code}:\n${text}`)));
  });
  child.stdout!.on("data", () => {});
  const passwords: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 3 && /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/.test(cols[2])) passwords[cols[1]] = cols[2];
  }
  return { base: out.match(/Simpul is listening on (http:\/\/\S+)/)![1], passwords, console: out, child, stderrFile };
}

/** The lines of a server's stderr that report a panic. There is no exception: the product's one
 *  expected panic (automerge's decoder on damaged bytes, contained where it happens) is logged as
 *  a warning without `panicked at`. */
export function panicLines(stderrFile: string): string[] {
  if (!fs.existsSync(stderrFile)) return [];
  return fs.readFileSync(stderrFile, "utf8").split("\n").filter((l) => l.includes("panicked at"));
}

/** Stops a server (waiting until its output is all read) and fails if it printed a panic. */
export async function stopSimpul(s: Started, signal: NodeJS.Signals = "SIGTERM") {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const closed = new Promise<void>((resolve) => s.child.once("close", () => resolve()));
    s.child.kill(signal);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  }
  const panics = panicLines(s.stderrFile);
  if (panics.length > 0) throw new Error(`simpul printed a panic:\n${panics.join("\n")}`);
}

// Starts `simpul serve` as a process and reads what it prints: its address, the demo accounts
// and devices. Shared by the global setup and the specs that run their own hub and boxes.
import { ChildProcess, spawn } from "node:child_process";

export interface Started {
  base: string;
  passwords: Record<string, string>;
  console: string;
  child: ChildProcess;
}

export async function startSimpul(binary: string, dir: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(binary, ["serve"], { cwd: dir, env, stdio: ["ignore", "pipe", "inherit"], detached: false });
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
  return { base: out.match(/Simpul is listening on (http:\/\/\S+)/)![1], passwords, console: out, child };
}

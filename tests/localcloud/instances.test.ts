/**
 * localcloud/instances.ts: when an instance's process group counts as gone. Real processes: a
 * group whose shell forked a child that exited and was never reaped (a zombie, left to init).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { processGroupRunning } from "../../localcloud/instances";

const linux = process.platform === "linux" ? test : test.skip;

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

linux("a group is running while a member runs, and gone once only zombies are left in it", async () => {
  // The subshell exits at once; `exec sleep` replaces the shell and never reaps it: a zombie of the group.
  const child = spawn("/bin/sh", ["-c", "(exit 0) & echo $!; exec sleep 60"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  const zombie = Number(line.toString().trim());
  const pgid = child.pid!;
  // Waits on the zombie's own state, not a clock.
  await new Promise<void>((resolve) => {
    const look = (): void => void (stateOf(zombie) === "Z" || stateOf(zombie) === undefined ? resolve() : setTimeout(look, 10));
    look();
  });
  expect(processGroupRunning(pgid)).toBe(true);

  const exited = once(child, "exit");
  process.kill(pgid, "SIGKILL");
  await exited;
  // Only the orphaned zombie may be left (until init reaps it): nothing of the group runs.
  expect(processGroupRunning(pgid)).toBe(false);
});

test("a group that never existed is not running", () => {
  expect(processGroupRunning(2 ** 22 + 12345)).toBe(false);
});

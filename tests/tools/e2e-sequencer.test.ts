/**
 * The end-to-end suite's order (tests/support/e2e-sequencer.js): longest first by committed costs,
 * which must name every end-to-end file and nothing else.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../support/project";

const sequencer = require("../support/e2e-sequencer") as {
  COST_S: Record<string, number>;
  new (options: { contexts: unknown[]; globalConfig: unknown }): { sort(tests: { path: string; context: unknown }[]): { path: string }[] };
};

/** The files jest.e2e.config.js runs: under tests/e2e/, or named *.e2e.test.ts. */
function e2eFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".test.ts")) {
        const relative = path.relative(ROOT, file).split(path.sep).join("/");
        if (relative.startsWith("tests/e2e/") || relative.endsWith(".e2e.test.ts")) found.push(relative);
      }
    }
  };
  walk(path.join(ROOT, "tests"));
  return found.sort();
}

test("every end-to-end file has a cost, and every cost names one", () => {
  expect(Object.keys(sequencer.COST_S).sort()).toEqual(e2eFiles());
});

test("files run longest first; a file with no cost runs before them", () => {
  const context = {
    config: { cacheDirectory: path.join(ROOT, "node_modules", ".cache", "e2e-sequencer-test"), name: "e2e" },
    hasteFS: { getSize: () => 0 },
  };
  const instance = new sequencer({ contexts: [context], globalConfig: {} });
  const tests = [...Object.keys(sequencer.COST_S), "tests/e2e/new.test.ts"].map((file) => ({ path: path.join(ROOT, file), context }));
  const order = instance.sort(tests).map((test) => path.relative(ROOT, test.path));
  const byCost = Object.entries(sequencer.COST_S)
    .sort(([, a], [, b]) => b - a)
    .map(([file]) => file);
  expect(order).toEqual(["tests/e2e/new.test.ts", ...byCost]);
});

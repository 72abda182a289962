/**
 * Every package this repository installs (the project, the policy pack, mutation testing) names one
 * version of each dependency, as its lockfile does: a range lets `npm install` move a version that
 * nobody reviewed, and the toolchain's pins (TypeScript below 7, the SDK's last release for Node 20)
 * are only true while nothing floats.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../support/project";

const PACKAGES = ["package.json", "policy/package.json", "mutation/package.json"];
const SECTIONS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] as const;

test.each(PACKAGES)("%s: every dependency is one version, the one its lockfile installs", (file) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as Partial<Record<string, Record<string, string>>>;
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, path.dirname(file), "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const ranges: string[] = [];
  const unlike: string[] = [];
  for (const section of SECTIONS) {
    for (const [name, spec] of Object.entries(manifest[section] ?? {})) {
      if (!/^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$/.test(spec)) ranges.push(`${section} ${name}: ${spec}`);
      else if (lock.packages[`node_modules/${name}`]?.version !== spec)
        unlike.push(`${name}: ${spec}, locked ${lock.packages[`node_modules/${name}`]?.version}`);
    }
  }
  expect(ranges).toEqual([]);
  expect(unlike).toEqual([]);
});

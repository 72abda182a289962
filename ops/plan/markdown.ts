/**
 * The plan as a pull request comment: reviewer-first (one summary line, then generations, the
 * changes table, new violations, the predicted failed-call window), the full routing folded away.
 * Pure: no Pulumi, no I/O.
 */
import { ChangeAction, GenerationChange, PlanChange, ResourceChange, secretValueNotice } from "./diff";
import { PlanDocument, PlanViolation, RoutingPrediction, hasMandatoryViolation } from "./plan";

/** A table cell: no pipe or newline may break the row, no HTML may render. */
export function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r?\n/g, " ");
}

/** Inline code that survives any backticks inside (a longer fence). */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block that survives any fence inside. */
function block(text: string): string[] {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return [`${fence}text`, ...text.split("\n"), fence];
}

const ACTIONS: readonly ChangeAction[] = ["replace", "delete", "create", "update"];

function summaryLine(stack: string, change: PlanChange, plan: PlanDocument): string {
  const counts = ACTIONS.map((action) => [action, change.resources.filter((r) => r.action === action).length] as const)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${n} ${action}`);
  const parts = [counts.length > 0 ? counts.join(" · ") : "no change to any resource"];
  const mandatory = change.newViolations.filter((v) => v.enforcementLevel === "mandatory").length;
  parts.push(
    change.newViolations.length === 0
      ? "no new violation"
      : `${change.newViolations.length} new violation(s)${mandatory > 0 ? `, ${mandatory} mandatory` : ""}`,
  );
  if (change.routing) parts.push(`predicted failed-call window: ${change.routing.failedCallWindow}`);
  const secrets = secretValueNotice(change);
  if (secrets) parts.push(`⚠️ ${secrets.keys.length} secret value(s) set again`);
  return `### ${hasMandatoryViolation(plan) ? "⛔" : "✅"} ${code(stack)}: ${parts.join(" · ")}`;
}

function generation(state: GenerationChange["from"]): string {
  if (state === null) return "(none)";
  const previous =
    state.previous === null ? "" : ` (previous g${state.previous}${state.revokePrevious ? ", revoked after verification" : ", kept"})`;
  return `g${state.current ?? "?"}${previous}`;
}

function generationsSection(generations: readonly GenerationChange[]): string[] {
  if (generations.length === 0) return ["**Generations**: unchanged."];
  return [
    "**Generations**",
    "",
    "| credential | before | after |",
    "| --- | --- | --- |",
    ...generations.map((g) => `| ${code(g.credential)} | ${cell(generation(g.from))} | ${cell(generation(g.to))} |`),
  ];
}

function propertiesCell(r: ResourceChange): string {
  if (r.properties.length === 0) return "";
  return r.properties
    .map((p) => {
      const where = p.paths.length === 1 && p.paths[0] === p.property ? "" : `: ${p.paths.map((x) => cell(x)).join(", ")}`;
      const effect = p.effect === "unruled" ? "its provider decides" : p.effect;
      return `${code(p.property)} (${effect})${where}`;
    })
    .join("<br>");
}

function changesSection(resources: readonly ResourceChange[]): string[] {
  if (resources.length === 0) return [];
  return [
    "**Changes**",
    "",
    "| action | resource | phase | properties (effect) |",
    "| --- | --- | --- | --- |",
    ...resources.map(
      (r) =>
        `| ${r.action === "replace" || r.action === "delete" ? `**${r.action}**` : r.action} | ${code(r.name)}<br>${cell(r.type)} | ${r.phase} | ${propertiesCell(r)} |`,
    ),
  ];
}

const shortName = (urn: string): string => urn.split("::").slice(3).join("::");

function violationLines(title: string, violations: readonly PlanViolation[]): string[] {
  if (violations.length === 0) return [];
  const out = [`**${title}**`, ""];
  for (const v of violations) {
    out.push(
      `- ${v.enforcementLevel === "mandatory" ? "**FAIL**" : "WARN"} [${v.enforcementLevel}] ${code(v.policy)}${v.urn ? ` on ${code(shortName(v.urn))}` : ""}`,
    );
    out.push("", ...block(v.message).map((line) => (line === "" ? "" : `  ${line}`)), "");
  }
  return out;
}

function routingSection(routing: RoutingPrediction): string[] {
  const lines: string[] = [];
  for (const wave of routing.waves) {
    lines.push(`${wave.wave === 0 ? "before " : `wave ${String(wave.wave).padStart(2)}`}  ${wave.what}`);
    for (const l of wave.lines) {
      lines.push(
        `         ${l.control} sends g${l.tokenGeneration} -> ${l.via} -> ${l.executorRevision}: ${l.accepted ? "accepted" : "REFUSED (401)"}`,
      );
    }
  }
  return [
    `**Token rotation g${routing.fromGeneration} → g${routing.toGeneration}** (${routing.strategy}): predicted failed-call window **${cell(routing.failedCallWindow)}**.`,
    "",
    "<details><summary>Which control revision reaches which executor revision, wave by wave</summary>",
    "",
    ...block(lines.join("\n")),
    "",
    "</details>",
  ];
}

function resultLine(plan: PlanDocument): string {
  if (hasMandatoryViolation(plan)) return "**Result: BLOCKED** by a mandatory policy.";
  if (plan.unsetSecrets.length > 0)
    return `**Result: OK**, once ${plan.unsetSecrets.length} secret value(s) are set (${plan.unsetSecrets.map(code).join(", ")}).`;
  return "**Result: OK**.";
}

/** The plan with `--base`, as markdown for a pull request. */
export function renderPlanMarkdown(plan: PlanDocument, change: PlanChange): string {
  const sections: string[][] = [
    [
      summaryLine(plan.stack, change, plan),
      "",
      `Against ${code(change.base)}: the current program evaluated under both stack files, offline (mocks, no cloud call, secrets redacted).`,
    ],
  ];
  if (change.baseError !== null)
    sections.push([`> **The base could not be planned**: ${cell(change.baseError)}. Every resource counts as created.`]);
  sections.push(generationsSection(change.generations));
  const changes = changesSection(change.resources);
  if (changes.length > 0) sections.push(changes);
  sections.push(change.newViolations.length === 0 ? ["**New violations**: none."] : violationLines("New violations", change.newViolations));
  const secrets = secretValueNotice(change);
  if (secrets) {
    sections.push([
      `> ⚠️ **Secret values set again**: ${secrets.keys.map(code).join(", ")}: the encrypted value differs from ${code(change.base)}.`,
      `> ${cell(secrets.why)}.`,
    ]);
  }
  const resolved = violationLines("Violations this change resolves", change.resolvedViolations);
  if (resolved.length > 0) sections.push(resolved);
  if (change.routing) sections.push(routingSection(change.routing));
  sections.push([resultLine(plan)]);
  return `${sections.map((s) => s.join("\n").replace(/\n+$/, "")).join("\n\n")}\n`;
}

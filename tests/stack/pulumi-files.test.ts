/**
 * `Pulumi.yaml` and every `Pulumi.<stack>.yaml`, held to the rules the Pulumi CLI applies when it
 * loads them (pulumi/pulumi at the release @pulumi/pulumi is pinned to), each rule citing where
 * Pulumi states it, plus the project's own rules for what may ship in the repository. Every rule
 * is shown to refuse a file that breaks it: the project file as it was when issue 12 was filed
 * among them. tests/pulumi-cli/cli.e2e.test.ts then loads the same files with the real CLI.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import * as ts from "typescript";
import { parse } from "yaml";
import { ROOT } from "../support/project";

const TAG = "v3.248.0";
const pulumiSource = (file: string, line?: number): string =>
  `https://github.com/pulumi/pulumi/blob/${TAG}/${file}${line === undefined ? "" : `#L${line}`}`;
const PROJECT_GO = "sdk/go/common/workspace/project.go";
const CONFIG_GO = "sdk/go/common/workspace/config.go";
const LOADERS_GO = "sdk/go/common/workspace/loaders.go";

const FIXTURES = path.join(ROOT, "tests", "fixtures", "pulumi-files");
const SCHEMA_FILE = path.join(FIXTURES, `project.${TAG}.json`);

type Doc = Record<string, unknown>;
const isObject = (value: unknown): value is Doc => typeof value === "object" && value !== null && !Array.isArray(value);

function parseDoc(text: string): Doc {
  const doc: unknown = parse(text);
  if (!isObject(doc)) throw new Error("not a YAML mapping");
  return doc;
}

interface ProjectFile {
  readonly file: string;
  readonly doc: Doc;
}
interface StackFile {
  readonly file: string;
  readonly doc: Doc;
  readonly project: Doc;
}
interface Rule<F> {
  readonly id: string;
  readonly says: string;
  readonly source: string;
  readonly check: (file: F) => string[];
}

const projectName = (project: Doc): string => String(project.name);

/** configKeyIsNamespacedByProject: a bare key, or one prefixed with `<project>:`. */
const namespacedByProject = (project: Doc, key: string): boolean => !key.includes(":") || key.startsWith(`${projectName(project)}:`);

/** Project config entries as Pulumi reads them: a scalar or list is shorthand for `value` (foreign keys) or `default`. */
function declarations(project: Doc): [string, Doc][] {
  const config = project.config;
  if (!isObject(config)) return [];
  return Object.entries(config).map(([key, value]) => [
    key,
    isObject(value) ? value : namespacedByProject(project, key) ? { default: value } : { value },
  ]);
}

interface ItemsType {
  readonly type: unknown;
  readonly items?: ItemsType;
}

/** ValidateConfigValue: does `value` fit the declared type. */
function fitsType(type: unknown, items: ItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[-+]?[0-9]+$/.test(value));
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "object":
      return isObject(value);
    default:
      return Array.isArray(value) && items !== undefined && value.every((item) => fitsType(items.type, items.items, item));
  }
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
const validateSchema = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as object);

/** The Node.js runtime options and the type each must have. */
const NODEJS_RUNTIME_OPTIONS: Readonly<Record<string, "boolean" | "string">> = {
  typescript: "boolean",
  tsconfig: "string",
  nodeargs: "string",
  packagemanager: "string",
};
const PACKAGE_MANAGERS = ["npm", "yarn", "pnpm", "bun"];
/** The emit settings @pulumi/pulumi's cmd/run overrides unless the runtime tsconfig sets them itself. */
const EMIT_OPTIONS = ["target", "module", "moduleResolution"];

function readTsconfig(file: string): Doc {
  const read: { config?: unknown; error?: ts.Diagnostic } = ts.readConfigFile(file, (f) => fs.readFileSync(f, "utf8"));
  if (read.error !== undefined) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
  return read.config as Doc;
}

const PROJECT_RULES: Rule<ProjectFile>[] = [
  {
    id: "project-schema",
    says: "the project file validates against Pulumi's JSON schema of Pulumi.yaml",
    source: `${pulumiSource("sdk/go/common/workspace/project.json")} (applied by ValidateProject: ${pulumiSource(PROJECT_GO, 579)})`,
    check: ({ doc }) =>
      validateSchema(doc) ? [] : (validateSchema.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`),
  },
  {
    id: "project-name",
    says: "name is a non-empty string of letters, digits, hyphens, underscores and periods",
    source: `${pulumiSource(PROJECT_GO, 560)} and the name's description in project.json`,
    check: ({ doc }) =>
      typeof doc.name === "string" && /^[A-Za-z0-9_.-]+$/.test(doc.name) ? [] : [`name ${JSON.stringify(doc.name)} is not a project name`],
  },
  {
    id: "foreign-key-no-type",
    says: "a config key outside the project's namespace declares no type",
    source: pulumiSource(PROJECT_GO, 851),
    check: ({ doc }) =>
      declarations(doc)
        .filter(([key, d]) => !namespacedByProject(doc, key) && d.type !== undefined)
        .map(([key]) => `Configuration key '${key}' is not namespaced by the project and should not define a type`),
  },
  {
    id: "foreign-key-no-default",
    says: "a config key outside the project's namespace declares no default (it gives a value)",
    source: pulumiSource(PROJECT_GO, 858),
    check: ({ doc }) =>
      declarations(doc)
        .filter(([key, d]) => !namespacedByProject(doc, key) && d.default !== undefined)
        .map(([key]) => `Configuration key '${key}' is not namespaced by the project and should not define a default value`),
  },
  {
    id: "foreign-key-needs-value",
    says: "a config key outside the project's namespace gives a value",
    source: pulumiSource(PROJECT_GO, 865),
    check: ({ doc }) =>
      declarations(doc)
        .filter(([key, d]) => !namespacedByProject(doc, key) && d.value === undefined)
        .map(([key]) => `Configuration key '${key}' is namespaced and must provide an attribute 'value'`),
  },
  {
    id: "default-or-value",
    says: "no config key has both a default and a value",
    source: pulumiSource(PROJECT_GO, 827),
    check: ({ doc }) =>
      declarations(doc)
        .filter(([, d]) => d.default !== undefined && d.value !== undefined)
        .map(([key]) => `project config '${key}' cannot have both a 'default' and 'value' attribute`),
  },
  {
    id: "array-items",
    says: "a project key typed array says the type of its items",
    source: pulumiSource(PROJECT_GO, 835),
    check: ({ doc }) =>
      declarations(doc)
        .filter(([key, d]) => namespacedByProject(doc, key) && d.type === "array" && d.items === undefined)
        .map(
          ([key]) => `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        ),
  },
  {
    id: "default-fits-type",
    says: "a typed project key's default is of that type",
    source: `${pulumiSource(PROJECT_GO, 841)}, ValidateConfigValue: ${pulumiSource(PROJECT_GO, 754)}`,
    check: ({ doc }) =>
      declarations(doc)
        .filter(([key, d]) => namespacedByProject(doc, key) && d.type !== undefined && d.default !== undefined)
        .filter(([, d]) => !fitsType(d.type, d.items as ItemsType | undefined, d.default))
        .map(([key, d]) => `The default value specified for configuration key '${key}' is not of the expected type '${String(d.type)}'`),
  },
  {
    id: "nodejs-runtime-options",
    says: "runtime.options holds only options the Node.js language host reads, each of its type",
    source:
      "https://www.pulumi.com/docs/iac/concepts/projects/project-file/#runtime-options; " +
      `${pulumiSource("sdk/nodejs/cmd/run/run.ts", 268)}; pulumi-cli/cmd/pulumi-language-nodejs/main.go (readRuntimeOptions)`,
    check: ({ doc }) => {
      const runtime = doc.runtime;
      if (!isObject(runtime) || runtime.name !== "nodejs") return ["runtime is not { name: nodejs, options }"];
      const problems: string[] = [];
      for (const [option, value] of Object.entries(isObject(runtime.options) ? runtime.options : {})) {
        const type = NODEJS_RUNTIME_OPTIONS[option];
        if (type === undefined) problems.push(`runtime.options.${option}: not an option of the Node.js runtime`);
        else if (typeof value !== type) problems.push(`runtime.options.${option}: must be a ${type}`);
      }
      const manager = isObject(runtime.options) ? runtime.options.packagemanager : undefined;
      if (manager !== undefined && !(typeof manager === "string" && PACKAGE_MANAGERS.includes(manager))) {
        problems.push(`runtime.options.packagemanager: ${JSON.stringify(manager)}; allowed: ${PACKAGE_MANAGERS.join(", ")}`);
      }
      return problems;
    },
  },
  {
    id: "engine-tsconfig",
    says:
      "the engine compiles TypeScript transpile-only (the runtime tsconfig sets noCheck) and emits as tsconfig.json does " +
      "(cmd/run lays only that file's own compilerOptions over its defaults: target ES2020, module nodenext)",
    source: `${pulumiSource("sdk/nodejs/cmd/run/run.ts", 331)}, ${pulumiSource("sdk/nodejs/cmd/run/run.ts", 392)}; docs/design/engine.md`,
    check: ({ doc }) => {
      const options = isObject(doc.runtime) && isObject(doc.runtime.options) ? doc.runtime.options : {};
      if (options.typescript === false) return [];
      if (typeof options.tsconfig !== "string") return ["runtime.options.tsconfig: not set, so the engine type-checks on every run"];
      const file = path.join(ROOT, options.tsconfig);
      if (!fs.existsSync(file)) return [`runtime.options.tsconfig: ${options.tsconfig} does not exist`];
      const own = (readTsconfig(file).compilerOptions ?? {}) as Doc;
      const base = (readTsconfig(path.join(ROOT, "tsconfig.json")).compilerOptions ?? {}) as Doc;
      const problems = own.noCheck === true ? [] : [`${options.tsconfig}: compilerOptions.noCheck is not true`];
      for (const option of EMIT_OPTIONS) {
        if (String(own[option]).toLowerCase() !== String(base[option]).toLowerCase()) {
          problems.push(
            `${options.tsconfig}: compilerOptions.${option} is ${JSON.stringify(own[option])}, tsconfig.json has ${JSON.stringify(base[option])}`,
          );
        }
      }
      return problems;
    },
  },
];

const STACK_FILE_KEYS = ["secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"];
const KEY_MATERIAL = ["secretsprovider", "encryptedkey", "encryptionsalt"];

const stackConfig = (doc: Doc): Doc => (isObject(doc.config) ? doc.config : {});
/** A stack key as Pulumi stores it: bare keys take the project's namespace. */
const qualified = (project: Doc, key: string): string => (key.includes(":") ? key : `${projectName(project)}:${key}`);
const stackValue = (file: StackFile, key: string): unknown =>
  Object.entries(stackConfig(file.doc)).find(([k]) => qualified(file.project, k) === qualified(file.project, key))?.[1];

/** Every map holding the key "secure" (a ciphertext, or a malformed one), with where it is. */
function secureMaps(value: unknown, at: string): [string, Doc][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secureMaps(v, `${at}[${i}]`));
  if (!isObject(value)) return [];
  if ("secure" in value) return [[at, value]];
  return Object.entries(value).flatMap(([k, v]) => secureMaps(v, `${at}.${k}`));
}

const STACK_RULES: Rule<StackFile>[] = [
  {
    id: "stack-file-keys",
    says: `a stack file has only the keys Pulumi reads (${STACK_FILE_KEYS.join(", ")}): any other is silently ignored, so a typo would vanish`,
    source: `ProjectStack: ${pulumiSource(PROJECT_GO, 1212)}`,
    check: ({ doc }) =>
      Object.keys(doc)
        .filter((key) => !STACK_FILE_KEYS.includes(key))
        .map((key) => `${key}: not a stack file key`),
  },
  {
    id: "config-key-form",
    says: "each config key is <namespace>:<name> (a bare name takes the project's namespace)",
    source: `ParseKey: ${pulumiSource("sdk/go/common/resource/config/key.go", 45)}; ${pulumiSource(LOADERS_GO, 61)}`,
    check: ({ doc }) =>
      Object.keys(stackConfig(doc))
        .filter((key) => key.split(":").length > 2 && !/^[^:]+:config:[^:]+$/.test(key))
        .map((key) => `could not parse ${key} as a configuration key`),
  },
  {
    id: "no-empty-values",
    says: "no config key is left without a value",
    source: `checkForEmptyConfig: ${pulumiSource(LOADERS_GO, 411)}`,
    check: ({ doc }) =>
      Object.entries(stackConfig(doc))
        .filter(([, value]) => value === null || value === undefined)
        .map(([key]) => `No value for configuration key "${key}"`),
  },
  {
    id: "secure-shape",
    says: 'a map with the key "secure" is a ciphertext: that key alone, a string',
    source: pulumiSource("sdk/go/common/resource/config/object.go", 31),
    check: ({ doc }) =>
      Object.entries(stackConfig(doc))
        .flatMap(([key, value]) => secureMaps(value, key))
        .filter(([, map]) => !(Object.keys(map).length === 1 && typeof map.secure === "string"))
        .map(([at]) => `${at}: maps with the single key "secure" are reserved`),
  },
  {
    id: "no-ciphertext-shipped",
    says:
      "no secure value ships in the repository: every value is decrypted when the stack loads, and no key here can decrypt one " +
      "(operators set secrets per stack: docs/runbooks/secrets-provider.md)",
    source: `validateStackConfigValues decrypts every value: ${pulumiSource(CONFIG_GO, 81)}`,
    check: ({ doc }) =>
      Object.entries(stackConfig(doc)).flatMap(([key, value]) =>
        secureMaps(value, key).map(([at]) => `${at}: ciphertext no key here decrypts`),
      ),
  },
  {
    id: "no-key-material-shipped",
    says:
      "no secrets provider or data key ships: `pulumi stack init --secrets-provider ...` writes the operator's own, and a fresh " +
      "file backend must load the file as it is",
    source: `ProjectStack's secretsprovider, encryptedkey, encryptionsalt: ${pulumiSource(PROJECT_GO, 1212)}`,
    check: ({ doc }) => KEY_MATERIAL.filter((key) => key in doc).map((key) => `${key}: per-operator key material in a shipped file`),
  },
  {
    id: "project-keys-set",
    says: "every project key Pulumi.yaml declares without a value or default is set in the stack",
    source: pulumiSource(CONFIG_GO, 314),
    check: (file) =>
      declarations(file.project)
        .filter(([key, d]) => namespacedByProject(file.project, key) && d.value === undefined && d.default === undefined)
        .filter(([key]) => stackValue(file, key) === undefined)
        .map(([key]) => `missing configuration value '${key}'`),
  },
  {
    id: "values-fit-types",
    says: "a value of a typed project key is of that type",
    source: `validateStackConfigValue: ${pulumiSource(CONFIG_GO, 152)}`,
    check: (file) =>
      declarations(file.project)
        .filter(([key, d]) => namespacedByProject(file.project, key) && d.type !== undefined)
        .filter(([key, d]) => {
          const value = stackValue(file, key);
          return value !== undefined && secureMaps(value, key).length === 0 && !fitsType(d.type, d.items as ItemsType | undefined, value);
        })
        .map(([key, d]) => `configuration key '${key}' must be of type '${String(d.type)}'`),
  },
  {
    id: "secret-keys-encrypted",
    says: "a project key declared secret is stored encrypted",
    source: pulumiSource(CONFIG_GO, 134),
    check: (file) =>
      declarations(file.project)
        .filter(
          ([key, d]) => d.secret === true && stackValue(file, key) !== undefined && secureMaps(stackValue(file, key), key).length === 0,
        )
        .map(([key]) => `configuration key '${key}' must be encrypted as it's secret`),
  },
];

const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");
const PROJECT_TEXT = read("Pulumi.yaml");
const project = (text = PROJECT_TEXT): ProjectFile => ({ file: "Pulumi.yaml", doc: parseDoc(text) });
const STACKS = fs
  .readdirSync(ROOT)
  .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
  .sort();
const stack = (file: string, text = read(file), projectText = PROJECT_TEXT): StackFile => ({
  file,
  doc: parseDoc(text),
  project: parseDoc(projectText),
});
const problems = <F>(rules: readonly Rule<F>[], file: F): Record<string, string[]> =>
  Object.fromEntries(rules.map((rule) => [rule.id, rule.check(file)] as const).filter(([, found]) => found.length > 0));

test("the schema fixture is Pulumi's, of the release @pulumi/pulumi is pinned to", () => {
  const pinned = (JSON.parse(read("package.json")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
  expect(`v${pinned}`).toBe(TAG);
  expect((JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as Doc).title).toBe("Pulumi Project");
  // Every rule says where Pulumi (or the project) states it.
  for (const rule of [...PROJECT_RULES, ...STACK_RULES]) expect(rule.source).toMatch(/https:\/\/|docs\/|pulumi-cli\//);
});

describe("Pulumi.yaml", () => {
  test.each(PROJECT_RULES.map((rule) => [rule.id, rule] as const))("%s", (_id, rule) => {
    expect(rule.check(project())).toEqual([]);
  });
});

describe.each(STACKS)("%s", (file) => {
  test.each(STACK_RULES.map((rule) => [rule.id, rule] as const))("%s", (_id, rule) => {
    expect(rule.check(stack(file))).toEqual([]);
  });
});

test("both shipped stacks are here", () => {
  expect(STACKS).toEqual(["Pulumi.prod.yaml", "Pulumi.staging.yaml"]);
});

describe("each rule refuses a file that breaks it", () => {
  const projectWith = (replace: string, by: string): string => {
    expect(PROJECT_TEXT).toContain(replace);
    return PROJECT_TEXT.replace(replace, by);
  };
  const configEntry = (entry: string): string => `${PROJECT_TEXT.trimEnd()}\n${entry}\n`;

  // [rule, the file text (built in the test: a replacement that no longer applies fails there), message]
  const projectCases: [string, () => string, string][] = [
    ["project-schema", () => projectWith("runtime:\n  name: nodejs", "runtime:\n  nme: nodejs"), "/runtime"],
    ["project-schema", () => configEntry("  wallet-executor:size:\n    type: number"), "/config/wallet-executor:size"],
    ["project-name", () => projectWith("name: wallet-executor", "name: wallet executor"), 'name "wallet executor"'],
    ["foreign-key-no-type", () => configEntry("  gcp:zone:\n    type: string\n    value: us-central1-a"), "Configuration key 'gcp:zone'"],
    ["foreign-key-no-default", () => configEntry("  gcp:zone:\n    default: us-central1-a"), "should not define a default value"],
    ["foreign-key-needs-value", () => configEntry("  gcp:zone:\n    description: the zone"), "must provide an attribute 'value'"],
    ["default-or-value", () => configEntry("  wallet-executor:size:\n    default: 1\n    value: 2"), "cannot have both"],
    ["array-items", () => configEntry("  wallet-executor:hosts:\n    type: array"), "does not specify the underlying type"],
    ["default-fits-type", () => configEntry("  wallet-executor:size:\n    type: integer\n    default: big"), "'wallet-executor:size'"],
    ["nodejs-runtime-options", () => projectWith("    packagemanager: npm", "    packagemanager: npm\n    typeScript: true"), "typeScript"],
    ["nodejs-runtime-options", () => projectWith("    typescript: true", '    typescript: "yes"'), "must be a boolean"],
    ["engine-tsconfig", () => projectWith("    tsconfig: tsconfig.pulumi.json\n", ""), "type-checks on every run"],
    ["engine-tsconfig", () => projectWith("tsconfig: tsconfig.pulumi.json", "tsconfig: tsconfig.json"), "noCheck is not true"],
  ];
  test.each(projectCases)("%s: %#", (id, text, message) => {
    const found = problems(PROJECT_RULES, project(text()));
    expect(found[id]?.join("\n")).toContain(message);
  });

  test("the project file as issue 12 found it: gcp:project and gcp:region typed, without values", () => {
    const before = project(fs.readFileSync(path.join(FIXTURES, "Pulumi.issue-12.yaml"), "utf8"));
    expect(problems(PROJECT_RULES, before)).toEqual({
      "foreign-key-no-type": [
        "Configuration key 'gcp:project' is not namespaced by the project and should not define a type",
        "Configuration key 'gcp:region' is not namespaced by the project and should not define a type",
      ],
      "foreign-key-needs-value": [
        "Configuration key 'gcp:project' is namespaced and must provide an attribute 'value'",
        "Configuration key 'gcp:region' is namespaced and must provide an attribute 'value'",
      ],
      "engine-tsconfig": ["runtime.options.tsconfig: not set, so the engine type-checks on every run"],
    });
  });

  const staging = read("Pulumi.staging.yaml");
  const stagingWith = (replace: string, by: string): string => {
    expect(staging).toContain(replace);
    return staging.replace(replace, by);
  };
  const withEntry = (entry: string): string => `${staging.trimEnd()}\n${entry}\n`;
  const ciphertext = "v1:+ZOeY4PsiNyZijsRqVucLdl/:R7GdwlZeJrsGH1Oy6qdjfAHbp/x5acGBtaHsL2aUEf+IuOtOF1ZkVzvA5bAoX+8J";

  interface StackCase {
    readonly id: string;
    /** Built in the test: a replacement that no longer applies fails there. */
    readonly text: () => string;
    readonly message: string;
    readonly projectText?: string;
  }
  const stackCases: StackCase[] = [
    { id: "stack-file-keys", text: () => `secretprovider: passphrase\n${staging}`, message: "secretprovider" },
    { id: "config-key-form", text: () => withEntry("  wallet-executor:a:b: 1"), message: "wallet-executor:a:b" },
    { id: "no-empty-values", text: () => withEntry("  wallet-executor:smokeHost:"), message: '"wallet-executor:smokeHost"' },
    {
      id: "secure-shape",
      text: () => withEntry(`  wallet-executor:sparkApiKeyG2:\n    secure: ${ciphertext}\n    note: old`),
      message: "wallet-executor:sparkApiKeyG2",
    },
    {
      id: "no-ciphertext-shipped",
      text: () => withEntry(`  wallet-executor:sparkApiKeyG2:\n    secure: ${ciphertext}`),
      message: "wallet-executor:sparkApiKeyG2",
    },
    {
      id: "no-key-material-shipped",
      text: () =>
        `secretsprovider: gcpkms://projects/oa-wallet-staging/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets\n${staging}`,
      message: "secretsprovider",
    },
    {
      id: "no-key-material-shipped",
      text: () => `encryptedkey: WUNx4HgHctoa758ldAioJV83jvZMLfte9VeFv5xyLLXE\n${staging}`,
      message: "encryptedkey",
    },
    {
      id: "project-keys-set",
      text: () => stagingWith("  wallet-executor:environment: staging\n", ""),
      message: "'wallet-executor:environment'",
    },
    {
      id: "values-fit-types",
      text: () => stagingWith("wallet-executor:environment: staging", "wallet-executor:environment: [staging]"),
      message: "must be of type 'string'",
    },
    {
      id: "secret-keys-encrypted",
      text: () => staging,
      message: "'wallet-executor:environment' must be encrypted",
      projectText: PROJECT_TEXT.replace('description: "Which environment this stack is: staging or prod."', "secret: true"),
    },
  ];
  test.each(stackCases)("$id: $message", ({ id, text, message, projectText }) => {
    const found = problems(STACK_RULES, stack("Pulumi.staging.yaml", text(), projectText ?? PROJECT_TEXT));
    expect(found[id]?.join("\n")).toContain(message);
  });

  test("every rule has a case that breaks it", () => {
    const covered = new Set([...projectCases.map(([id]) => id), ...stackCases.map(({ id }) => id)]);
    expect([...PROJECT_RULES, ...STACK_RULES].map((rule) => rule.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

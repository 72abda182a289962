// ESLint: the TypeScript rules (type-aware), Pulumi's own rules (no Output in a template literal
// without pulumi.interpolate), and Prettier for formatting (checked separately by `prettier --check`).
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");
const pulumi = require("@pulumi/eslint-plugin");

module.exports = tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "policy/node_modules/**",
      "bin/**",
      "coverage/**",
      "reports/**",
      ".stryker-tmp*/**",
      "tests/.tmp/**",
      "**/*.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/explicit-module-boundary-types": "off",
      // CommonJS: the SDK's internal modules and JSON are loaded with require on purpose.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
);

import js from "@eslint/js";
import jsxA11y from "eslint-plugin-jsx-a11y";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/", "node_modules/", ".data/", ".cache/", "test-results/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx,js,mjs}"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // Names starting with _ are deliberately unused (destructured away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // Untyped rows of raw SQL and test doubles; narrowed where they are read.
      "@typescript-eslint/no-explicit-any": "off",
      // Control characters are matched on purpose: they are what the input checks refuse.
      "no-control-regex": "off",
    },
  },
  {
    files: ["app/**/*.tsx"],
    plugins: { "react-hooks": reactHooks, "jsx-a11y": jsxA11y },
    rules: { ...reactHooks.configs.recommended.rules, ...jsxA11y.flatConfigs.recommended.rules },
  },
  {
    // The layers import one way: db knows nothing of the app, app nothing of the worker or tests.
    files: ["db/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/app/**", "~/*"], message: "db/ imports nothing from app/." }] }] },
  },
  {
    files: ["app/**/*.{ts,tsx}"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/worker/**", "**/tests/**", "**/routes/*"], message: "app/ code never imports the worker, tests or a route." }] }] },
  },
);

// ESLint (flat config): the TypeScript rules with type information, React's hooks rules and the accessibility
// rules over the storefront and the tracker. `npm run lint`; `make lint` runs it (config/frontend.py).
import js from "@eslint/js";
import jsxA11y from "eslint-plugin-jsx-a11y";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // dist/ is the build; schema.d.ts is generated from the OpenAPI schema (`npm run api:types`), not written by hand.
  { ignores: ["dist/", "node_modules/", "src/api/schema.d.ts"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  reactHooks.configs.flat.recommended,
  jsxA11y.flatConfigs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_` marks a parameter a callback's signature requires but the body does not read.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["*.config.{js,ts}"],
    languageOptions: { globals: globals.node },
  },
  {
    // Config files are not part of a tsconfig project: lint them without type information.
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);

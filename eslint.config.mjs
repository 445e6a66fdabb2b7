// The zone script is plain ES2020 in a browser: its modules (js/, ES modules) and the one file
// scripts/build_js.py assembles from them (a classic script, strict in its one function).
// `make lint` checks both.
import js from "@eslint/js";

const browser = {
  window: "readonly", document: "readonly", console: "readonly", fetch: "readonly", URL: "readonly",
  URLSearchParams: "readonly", CustomEvent: "readonly", DataTransfer: "readonly", CSS: "readonly",
  Blob: "readonly", Headers: "readonly", setTimeout: "readonly", clearTimeout: "readonly",
};

const rules = {
  ...js.configs.recommended.rules,
  "no-var": "off", // the script is ES5 in style: var, function
  eqeqeq: ["error", "smart"],
  "no-unused-vars": ["error", { caughtErrors: "none" }], // a catch may ignore what it caught
};

export default [
  {
    files: ["js/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "module", globals: browser },
    rules,
  },
  {
    files: ["src/flask_dropzone/static/flask-dropzone.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "script", globals: browser },
    rules: { ...rules, strict: ["error", "function"], "no-implicit-globals": "error" },
  },
];

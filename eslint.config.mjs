// The zone script is plain ES2020 in a browser, strict in its one function: `make lint` checks it.
import js from "@eslint/js";

export default [
  {
    files: ["src/flask_dropzone/static/flask-dropzone.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: {
        window: "readonly", document: "readonly", console: "readonly", fetch: "readonly", URL: "readonly",
        URLSearchParams: "readonly", CustomEvent: "readonly", DataTransfer: "readonly", CSS: "readonly",
        Blob: "readonly", setTimeout: "readonly", clearTimeout: "readonly",
      },
    },
    rules: {
      ...js.configs.recommended.rules,
      strict: ["error", "function"],
      "no-var": "off", // the script is ES5 in style: var, function
      eqeqeq: ["error", "smart"],
      "no-unused-vars": ["error", { caughtErrors: "none" }], // a catch may ignore what it caught
      "no-implicit-globals": "error",
    },
  },
];

// One zone: its Dropzone, made from the zone's JSON config, with the features it has.
//
// A feature is an object of one shape (js/features/*.js):
//   applies(ctx)  whether the zone has the feature (from its config and options);
//   prepare(ctx)  optional: changes Dropzone's options (ctx.options) before the Dropzone is
//                 made; returning false leaves the zone unmade (the feature said why);
//   setup(ctx)    optional: wires the feature in Dropzone's `init` (ctx.dz, ctx.say).
// The zone's ctx: config, element, form (the <form> around the zone, if any), hooks (the
// app's custom_options and custom_init), options, request (core/request.js), state (the
// state of a file, core/state.js), and, once Dropzone's init runs, dz and say (the live
// region). Direct uploads add appHeaders: the headers they send the app's endpoints.
import { announcer } from "./aria.js";
import { fail, fire } from "./dom.js";
import { requester } from "./request.js";
import { stateOf } from "./state.js";
import { accessibility } from "../features/accessibility.js";
import { cancel } from "../features/cancel.js";
import { chunkAnswer } from "../features/chunk-answer.js";
import { deletes } from "../features/deletes.js";
import { direct } from "../features/direct.js";
import { existing } from "../features/existing.js";
import { field } from "../features/field.js";
import { inForm } from "../features/in-form.js";
import { leaving } from "../features/leaving.js";
import { notKept } from "../features/not-kept.js";
import { outcomes } from "../features/outcomes.js";
import { personRemoval } from "../features/person-removal.js";
import { progress } from "../features/progress.js";
import { redirect } from "../features/redirect.js";
import { resume } from "../features/resume.js";
import { rules } from "../features/rules.js";
import { target } from "../features/target.js";
import { uploadButton } from "../features/upload-button.js";

// In the order they prepare and set up: Dropzone calls listeners in the order they were
// added, so a feature reads what those before it did (the preview's message, the file's
// state); the app's own init comes last.
var FEATURES = [
  outcomes, accessibility, progress, notKept, redirect, uploadButton, inForm, target, personRemoval,
  resume, leaving, deletes, cancel, direct, rules, chunkAnswer, field, existing,
];

// The zone create() emitted carries data-flask-dropzone: an element of the page's
// content with the same id (say, in a sanitized comment) must not take the zone over.
// A zone written by hand, without the marker, is found by its id.
function findZone(id) {
  var marked = document.querySelectorAll("[data-flask-dropzone]");
  for (var i = 0; i < marked.length; i++) {
    if (marked[i].id === id) return marked[i];
  }
  return document.getElementById(id);
}

export function setUp(config, hooks) {
  var element = findZone(config.id);
  if (!element) return fail("no element with id " + JSON.stringify(config.id));
  if (element.dropzone) element.dropzone.destroy(); // auto-discovered by Dropzone 5
  var ctx = {
    config: config,
    element: element,
    form: element.closest("form"),
    hooks: hooks,
    options: Object.assign({}, config.options, hooks.options || {}),
    request: requester(config),
    state: stateOf,
    dz: null,
    say: null,
    appHeaders: null,
  };
  var features = FEATURES.filter(function (feature) { return feature.applies(ctx); });
  for (var i = 0; i < features.length; i++) {
    if (features[i].prepare && features[i].prepare(ctx) === false) return;
  }
  var customInit = ctx.options.init;
  ctx.options.init = function () {
    ctx.dz = this;
    ctx.say = announcer(element);
    features.forEach(function (feature) {
      if (feature.setup) feature.setup(ctx);
    });
    if (hooks.init) hooks.init.call(this);
    if (typeof customInit === "function") customInit.call(this);
  };
  var dz = new window.Dropzone(element, ctx.options);
  fire(element, "dropzone:init", { dropzone: dz });
}

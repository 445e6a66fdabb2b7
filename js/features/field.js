// DropzoneField: a zone inside a form whose files upload as they are dropped, to be kept
// pending by the server, and go with the form as references (hidden inputs named as the
// field), never as bytes. A form shown again (with errors) shows them as uploaded.
import { fail } from "../core/dom.js";
import { showExisting } from "./existing.js";

export var field = {
  applies: function (ctx) {
    return Boolean(ctx.config.field);
  },
  setup: fieldZone,
};

function fieldZone(ctx) {
  var dz = ctx.dz;
  var config = ctx.config;
  var field = config.field;
  var form = ctx.form;
  if (!form) return fail("form field zone " + JSON.stringify(config.id) + " is not inside a <form>");
  // What browsers without JavaScript use (a file input, a checkbox per file kept) leaves
  // the form: no file goes twice, and the zone's own inputs say what is kept.
  var fallbacks = form.querySelectorAll("[data-dropzone-fallback]");
  for (var i = 0; i < fallbacks.length; i++) {
    if (fallbacks[i].getAttribute("data-dropzone-fallback") === config.id) fallbacks[i].remove();
  }
  // The field's <label for=...> names a <div>, which a click does nothing for: it opens the
  // file picker, as a label of a file input does.
  var labels = document.querySelectorAll("label[for]");
  for (var l = 0; l < labels.length; l++) {
    if (labels[l].htmlFor !== config.id) continue;
    labels[l].addEventListener("click", function (event) {
      event.preventDefault();
      if (dz.hiddenFileInput) dz.hiddenFileInput.click();
    });
  }
  function input(value) {
    var inputs = form.querySelectorAll("input[type=hidden][data-dropzone-reference]");
    for (var j = 0; j < inputs.length; j++) {
      if (inputs[j].name === field.name && inputs[j].value === value) return inputs[j];
    }
    var made = document.createElement("input");
    made.type = "hidden";
    made.name = field.name;
    made.value = value;
    made.setAttribute("data-dropzone-reference", "");
    form.appendChild(made);
    return made;
  }
  showExisting(ctx, config.existing).forEach(function (file, index) {
    ctx.state(file).input = input(config.existing[index].keep);
  });
  showExisting(ctx, field.pending).forEach(function (file, index) {
    var state = ctx.state(file);
    state.reference = field.pending[index].reference;
    state.input = input(state.reference);
  });
  dz.on("success", function (file, answer) {
    var entry = answer && Array.isArray(answer.files) ? answer.files[0] : null;
    if (!entry) return;
    var state = ctx.state(file);
    state.reference = entry.reference;
    state.input = input(entry.reference);
    // In the zone's order, not the order uploads ended in: the form shown again, and the
    // files claimed, keep the order the person gave.
    dz.files.forEach(function (each) {
      var own = ctx.state(each).input;
      if (own) form.appendChild(own);
    });
  });
  // Removed: its input goes; a pending file its person removed is discarded on the server
  // at once (a stored file is not: the view learns of it from the field's `removed`).
  dz.on("removedfile", function (file) {
    var state = ctx.state(file);
    if (state.input) state.input.remove();
    if (state.removedByPerson && state.reference) {
      ctx.request(field.discardUrl, { form: { reference: state.reference } });
    }
  });
  waitForFiles(ctx, form);
}

// Submitted while files are on their way: the form goes once they arrived. Meanwhile it
// says so on screen (and to screen readers), and its submit buttons cannot be pressed.
// Once sent, it is not sent again until the page is shown anew.
function waitForFiles(ctx, form) {
  var dz = ctx.dz;
  var waiting = null;
  var sent = false; // the form is on its way: a second press would send it twice
  window.addEventListener("pageshow", function () { sent = false; }); // back to it
  form.addEventListener("submit", function (event) {
    if (sent) return event.preventDefault();
    if (!dz.getUploadingFiles().length && !dz.getQueuedFiles().length) {
      setTimeout(function () { sent = !event.defaultPrevented; }); // once every listener ran
      return;
    }
    event.preventDefault();
    if (waiting) return;
    waiting = { submitter: event.submitter || null, buttons: submitButtons(form), notice: null };
    waiting.buttons.forEach(function (button) { button.disabled = true; });
    waiting.notice = document.createElement("p");
    waiting.notice.className = "fdz-waiting";
    waiting.notice.setAttribute("aria-hidden", "true"); // said through the live region
    waiting.notice.textContent = ctx.config.texts.waiting;
    ctx.element.insertAdjacentElement("afterend", waiting.notice);
    ctx.say(ctx.config.texts.waiting);
  });
  dz.on("queuecomplete", function () {
    if (!waiting) return;
    var submitter = waiting.submitter;
    waiting.buttons.forEach(function (button) { button.disabled = false; });
    waiting.notice.remove();
    waiting = null;
    if (submitter && submitter.form === form) form.requestSubmit(submitter);
    else form.requestSubmit();
  });
}

// The form's submit buttons that can be pressed now (those of the form= attribute too).
function submitButtons(form) {
  return Array.prototype.filter.call(form.elements, function (control) {
    var kind = control.type;
    var submits = control.tagName === "BUTTON" ? kind === "submit" : kind === "submit" || kind === "image";
    return submits && !control.disabled;
  });
}

// In-form mode (in_form=True): the zone is part of a form, and its files go when the form
// is submitted: with the form in one request, or first to UPLOAD_ACTION.
import { fail, foreign, sameUrl } from "../core/dom.js";

export var inForm = {
  applies: function (ctx) {
    return Boolean(ctx.config.inForm);
  },
  prepare: function (ctx) {
    if (!ctx.form) {
      fail("in-form zone " + JSON.stringify(ctx.config.id) + " is not inside a <form>");
      return false;
    }
    ctx.options.url = ctx.config.uploadUrl || ctx.form.action;
  },
  setup: function (ctx) {
    var config = ctx.config;
    var form = ctx.form;
    if (config.uploadUrl && !sameUrl(config.uploadUrl, form.action)) {
      uploadFilesThenSubmit(ctx.dz, form, config);
    } else {
      sendFilesWithForm(ctx.dz, form, config);
    }
    if (config.uploadOnClick) {
      var button = document.getElementById(config.uploadButton);
      if (button && button.type !== "submit") {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          form.requestSubmit();
        });
      }
    }
  },
};

function hiddenInput(form, name, value) {
  var input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  form.appendChild(input);
}

function addCsrfField(form, config) {
  if (foreign(form.action)) return; // the token is the app's: not for another origin
  if (config.csrf && !form.querySelector('[name="' + CSS.escape(config.csrf.field) + '"]')) {
    hiddenInput(form, config.csrf.field, config.csrf.token);
  }
}

// One request: the files travel with the form's own fields in one native submission, so
// the browser follows the response (redirect or re-rendered form).
function sendFilesWithForm(dz, form, config) {
  form.addEventListener("submit", function () {
    var added = form.querySelectorAll("input[data-dropzone-files]");
    for (var i = 0; i < added.length; i++) added[i].remove();
    dz.getAcceptedFiles().forEach(function (file, index) {
      var transfer = new DataTransfer();
      transfer.items.add(file);
      var input = document.createElement("input");
      input.type = "file";
      input.hidden = true;
      input.name = dz.options.paramName + "[" + index + "]";
      input.setAttribute("data-dropzone-files", "");
      input.files = transfer.files;
      form.appendChild(input);
    });
    addCsrfField(form, config);
    form.enctype = "multipart/form-data";
  });
}

// Files first (UPLOAD_ACTION names another URL than the form's, as in Flask-Dropzone 2.0.0):
// submitting uploads the queued files to UPLOAD_ACTION, then, if every file succeeded,
// submits the form natively to its own action. A failed file keeps the page where it is,
// with the file's message shown.
function uploadFilesThenSubmit(dz, form, config) {
  var uploading = false; // the files of a submission are on their way
  var sending = false; // the form's own submission, after the files
  var submitter = null;
  form.addEventListener("submit", function (event) {
    if (sending) return;
    var queued = dz.getQueuedFiles();
    var failed = dz.getFilesWithStatus(window.Dropzone.ERROR);
    if (!queued.length && !failed.length) {
      addCsrfField(form, config);
      return; // nothing left to upload: the form goes as it is
    }
    event.preventDefault();
    if (!queued.length) return; // a failed file: stay and show it
    submitter = event.submitter || null;
    uploading = true;
    dz.options.autoProcessQueue = true;
    dz.processQueue();
  });
  dz.on("queuecomplete", function () {
    if (!uploading) return; // a file refused as it was added, say
    uploading = false;
    dz.options.autoProcessQueue = false;
    var done = dz.files.length > 0 && dz.files.every(function (file) {
      return file.status === window.Dropzone.SUCCESS;
    });
    if (!done) return;
    addCsrfField(form, config);
    sending = true;
    if (submitter && submitter.form === form) form.requestSubmit(submitter);
    else form.requestSubmit();
    sending = false;
  });
}

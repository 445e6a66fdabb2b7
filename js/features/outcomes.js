// What a file's preview shows of its outcome: words a person can read, one outcome at a
// time, its size in the unit it is best read in, and each file's own outcome when several
// went in one request.
import { previewParts, thumbnailError } from "../core/files.js";

export var outcomes = {
  applies: function () { return true; },
  setup: function (ctx) {
    readableErrors(ctx.dz);
    oneOutcome(ctx.dz);
    showSize(ctx.dz);
    eachItsOwn(ctx.dz);
  },
};

// The message a file's preview shows, in words a person can read:
// - a picture Dropzone cannot draw a thumbnail of (an HTML page named .png, say) is not a
//   refused file: Dropzone would mark it as one, with its thumbnail message over the
//   server's. The preview keeps its plain icon and the file its own outcome;
// - an HTML error page (a proxy's, Werkzeug's 500) is not shown as markup source:
//   SERVER_ERROR says it, with its status. A view's own words stay, whatever their
//   Content-Type (Flask sends a returned string as text/html);
// - a file just over the limit does not read as the limit itself: its size is rounded
//   up there ("5.01 MiB" for 5 MiB and a byte), as the server says it.
function readableErrors(dz) {
  var show = dz.options.error;
  if (typeof show !== "function") return;
  dz.off("error", show);
  dz.on("error", function (file, message, xhr) {
    var options = dz.options;
    if (thumbnailError(dz, message, xhr)) {
      if (file.previewElement) file.previewElement.classList.add("dz-no-thumbnail");
      return;
    }
    if (xhr && typeof message === "string" && /^\s*<(!doctype|html|head|body)\b/i.test(message)) {
      message = options.dictResponseError.replace("{{statusCode}}", xhr.status);
    } else if (!xhr && options.maxFilesize != null && typeof message === "string") {
      var template = options.dictFileTooBig.replace("{{maxFilesize}}", options.maxFilesize);
      var rounded = Math.round(file.size / 1024 / 10.24) / 100;
      if (rounded <= options.maxFilesize && message === template.replace("{{filesize}}", rounded)) {
        message = template.replace("{{filesize}}", Math.ceil((file.size * 100) / 1048576) / 100);
      }
    }
    show.call(this, file, message, xhr);
  });
}

// A file has one outcome: stored or refused, never both marks at once.
function oneOutcome(dz) {
  dz.on("success", function (file) {
    if (!file.previewElement) return;
    file.previewElement.classList.remove("dz-error");
    var messages = previewParts(file, "[data-dz-errormessage]");
    for (var i = 0; i < messages.length; i++) messages[i].textContent = "";
  });
  dz.on("error", function (file, message, xhr) {
    if (file.previewElement && !thumbnailError(dz, message, xhr)) file.previewElement.classList.remove("dz-success");
  });
}

// A file's size in the unit it is best read in: "200 MiB", not Dropzone's "0.2 GiB" (it takes
// the larger unit from a tenth of it on).
function showSize(dz) {
  var units = ["b", "kb", "mb", "gb", "tb"];
  dz.on("addedfile", function (file) {
    var base = dz.options.filesizeBase;
    var power = 0;
    while (power < units.length - 1 && file.size >= Math.pow(base, power + 1)) power++;
    var amount = Math.round((10 * file.size) / Math.pow(base, power)) / 10;
    var nodes = previewParts(file, "[data-dz-size]");
    for (var i = 0; i < nodes.length; i++) {
      var strong = document.createElement("strong");
      strong.textContent = String(amount);
      nodes[i].replaceChildren(strong, " " + dz.options.dictFileSizeUnits[units[power]]);
    }
  });
}

// Several files in one request: when some are refused, the server answers with one
// outcome per file (JSON, in the order sent); each preview shows its own.
function eachItsOwn(dz) {
  dz.on("errormultiple", function (files, response) {
    if (!response || !Array.isArray(response.files) || response.files.length !== files.length) return;
    files.forEach(function (file, index) {
      var outcome = response.files[index];
      var messages = previewParts(file, "[data-dz-errormessage]");
      if (outcome.error === undefined) {
        file.status = window.Dropzone.SUCCESS;
        if (file.previewElement) file.previewElement.classList.remove("dz-error");
        for (var i = 0; i < messages.length; i++) messages[i].textContent = "";
        dz.emit("success", file, outcome);
      } else {
        for (var j = 0; j < messages.length; j++) messages[j].textContent = outcome.error;
      }
    });
  });
}

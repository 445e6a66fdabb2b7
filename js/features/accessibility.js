// Each preview: a named progress bar with its percentage, a remove link that is a button
// to the keyboard (Enter and Space), a thumbnail that says nothing the name does not. Each
// outcome is said through the zone's live region; the focus of a removed file's link goes
// back to the zone's button.
import { progressBar, showProgress } from "../core/aria.js";
import { filled } from "../core/dom.js";
import { previewParts, thumbnailError } from "../core/files.js";

export var accessibility = {
  applies: function () { return true; },
  setup: function (ctx) {
    accessiblePreviews(ctx);
    sayOutcomes(ctx.dz, ctx.say);
  },
};

function accessiblePreviews(ctx) {
  var dz = ctx.dz;
  var say = ctx.say;
  dz.on("addedfile", function (file) {
    var preview = file.previewElement;
    if (!preview) return;
    var images = preview.querySelectorAll("[data-dz-thumbnail]");
    for (var i = 0; i < images.length; i++) images[i].alt = "";
    var bars = preview.querySelectorAll(".dz-progress");
    for (var j = 0; j < bars.length; j++) {
      progressBar(bars[j], file.name);
      var percent = document.createElement("span");
      percent.className = "fdz-percent";
      percent.setAttribute("aria-hidden", "true");
      percent.textContent = "0%";
      bars[j].insertAdjacentElement("afterend", percent);
    }
    var links = preview.querySelectorAll("[data-dz-remove]");
    nameLinks(file);
    for (var k = 0; k < links.length; k++) {
      links[k].setAttribute("role", "button");
      // Space acts on release, as on a button (and not on what has the focus after it)
      links[k].addEventListener("keydown", function (event) {
        if (event.key === " ") event.preventDefault(); // no scrolling
      });
      links[k].addEventListener("keyup", function (event) {
        if (event.key === " ") {
          event.preventDefault();
          event.currentTarget.click();
        }
      });
    }
  });
  dz.on("processing", nameLinks);
  dz.on("complete", nameLinks);
  dz.on("uploadprogress", function (file, progress) {
    var bars = previewParts(file, ".dz-progress");
    var percents = previewParts(file, ".fdz-percent");
    for (var i = 0; i < bars.length; i++) showProgress(bars[i], percents[i], progress);
  });
  dz.on("success", function (file) {
    var bars = previewParts(file, ".dz-progress");
    var percents = previewParts(file, ".fdz-percent");
    for (var i = 0; i < bars.length; i++) showProgress(bars[i], percents[i], 100);
    if (!ctx.state(file).existing) say(filled(ctx.config.texts.fileUploaded, { filename: file.name }));
  });
  dz.on("error", function (file, message, xhr) {
    // several files in one request: said once each file shows its own outcome (sayOutcomes)
    if (thumbnailError(dz, message, xhr) || (xhr && dz.options.uploadMultiple)) return;
    var shown = previewParts(file, "[data-dz-errormessage]");
    var text = shown.length ? shown[0].textContent : typeof message === "string" ? message : "";
    if (text) say(file.name + ": " + text);
  });
  // Removing a file from the keyboard takes the focus away with its preview: it goes
  // back to the zone's button.
  dz.on("removedfile", function () {
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var button = dz.element.querySelector(".dz-message .dz-button");
    if (button) button.focus();
  });
}

// Dropzone rewords the link as the upload starts (cancel) and ends (remove): its name follows.
function nameLinks(file) {
  var links = previewParts(file, "[data-dz-remove]");
  for (var i = 0; i < links.length; i++) links[i].setAttribute("aria-label", links[i].textContent + ": " + file.name);
}

// Several files in one request that the server judged one by one: each outcome is said
// once the previews show them.
function sayOutcomes(dz, say) {
  dz.on("errormultiple", function (files) {
    files.forEach(function (file) {
      if (file.status === window.Dropzone.SUCCESS) return; // said by its success event
      var shown = previewParts(file, "[data-dz-errormessage]");
      if (shown.length && shown[0].textContent) say(file.name + ": " + shown[0].textContent);
    });
  });
}

// existing=: files already stored, shown as uploaded, counted against maxFiles (they are
// accepted files of the zone), each with its remove link (and delete token, if any).
import { safeUrl } from "../core/dom.js";

export var existing = {
  applies: function (ctx) {
    return !ctx.config.field && Boolean(ctx.config.existing && ctx.config.existing.length);
  },
  setup: function (ctx) {
    showExisting(ctx, ctx.config.existing);
  },
};

// The files shown, in the order of `entries` (a form field shows its own this way too).
export function showExisting(ctx, entries) {
  var dz = ctx.dz;
  var shown = [];
  entries.forEach(function (entry) {
    var file = {
      name: entry.filename || entry.name, // the person's name for it, when the page knows it
      size: entry.size,
      accepted: true,
      status: window.Dropzone.SUCCESS,
    };
    var state = ctx.state(file);
    state.existing = true;
    state.deleteToken = entry.token || null;
    shown.push(file);
    dz.files.push(file);
    dz.emit("addedfile", file);
    var thumbnail = entry.thumbnail ? safeUrl(entry.thumbnail) : null;
    if (thumbnail) dz.emit("thumbnail", file, thumbnail);
    dz.emit("complete", file);
    if (file.previewElement) {
      file.previewElement.classList.add("dz-success");
      var url = entry.url ? safeUrl(entry.url) : null;
      var names = file.previewElement.querySelectorAll("[data-dz-name]");
      for (var i = 0; url && i < names.length; i++) {
        var link = document.createElement("a");
        link.href = url;
        link.textContent = file.name;
        names[i].textContent = "";
        names[i].appendChild(link);
      }
    }
  });
  var max = dz.options.maxFiles;
  if (max != null && dz.getAcceptedFiles().length >= max) {
    dz.element.classList.add("dz-max-files-reached"); // as Dropzone marks a full zone
    if (dz.getAcceptedFiles().length === max) dz.emit("maxfilesreached", dz.files);
  }
  return shown;
}

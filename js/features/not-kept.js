// In-form mode, a form that came back with errors: the files it carried were not kept,
// and the zone says so, by name, until a file is added again. Elements of the page
// marked data-dropzone-error-for="<zone id>" (the app's own error for the files) go too.
import { filled } from "../core/dom.js";

export var notKept = {
  applies: function () { return true; },
  setup: function (ctx) {
    var config = ctx.config;
    var notice = null;
    if (config.notKept && config.notKept.length) {
      notice = document.createElement("p");
      notice.className = "fdz-notice";
      notice.textContent = filled(config.texts.filesNotKept, { filenames: config.notKept.join(", ") });
      ctx.element.insertBefore(notice, ctx.element.firstChild);
      ctx.say(notice.textContent);
    }
    ctx.dz.on("addedfile", function () {
      if (notice) notice.remove();
      notice = null;
      var stale = document.querySelectorAll("[data-dropzone-error-for]");
      for (var i = 0; i < stale.length; i++) {
        if (stale[i].getAttribute("data-dropzone-error-for") === config.id) stale[i].hidden = true;
      }
    });
  },
};

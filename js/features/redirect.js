// redirect_url: once every file of the zone is stored, the page goes there.
import { fail } from "../core/dom.js";

export var redirect = {
  applies: function (ctx) {
    return Boolean(ctx.config.redirectUrl);
  },
  setup: function (ctx) {
    var dz = ctx.dz;
    dz.on("queuecomplete", function () {
      var files = dz.files;
      var allDone = files.length > 0 && files.every(function (file) {
        return file.status === window.Dropzone.SUCCESS;
      });
      if (allDone) goTo(ctx.config.redirectUrl);
    });
  },
};

function goTo(url) {
  var target = new URL(url, window.location.href);
  if (target.protocol === "http:" || target.protocol === "https:") {
    window.location.assign(target.href);
  } else {
    fail("refusing to redirect to " + target.protocol + " URL");
  }
}

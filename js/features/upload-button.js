// UPLOAD_ON_CLICK (a zone of its own): files wait in the queue until the button is pressed,
// then the whole queue is sent, not just parallelUploads files.
import { fail } from "../core/dom.js";

export var uploadButton = {
  applies: function (ctx) {
    return Boolean(ctx.config.uploadOnClick) && !ctx.config.inForm;
  },
  setup: function (ctx) {
    var dz = ctx.dz;
    var button = document.getElementById(ctx.config.uploadButton);
    if (!button) return fail("no upload button with id " + JSON.stringify(ctx.config.uploadButton));
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (!dz.getQueuedFiles().length) return;
      dz.options.autoProcessQueue = true;
      dz.processQueue();
    });
    dz.on("queuecomplete", function () {
      dz.options.autoProcessQueue = false;
    });
  },
};

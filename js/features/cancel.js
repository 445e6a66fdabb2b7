// CHUNKING: a file removed by a person while its chunks are on their way ends its
// partial upload on the server now, not at the sweep.
import { fire } from "../core/dom.js";

export var cancel = {
  applies: function (ctx) {
    return Boolean(ctx.config.cancelUrl);
  },
  setup: function (ctx) {
    ctx.dz.on("removedfile", function (file) {
      if (!ctx.state(file).removedByPerson || file.status !== window.Dropzone.CANCELED || !file.upload) return;
      ctx.request(ctx.config.cancelUrl, { form: { dzuuid: file.upload.uuid } }).then(function (answer) {
        if (answer.status) fire(ctx.element, "dropzone:cancelled", { file: file });
      });
    });
  },
};

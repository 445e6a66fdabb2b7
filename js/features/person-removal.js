// Marks the file whose remove (or cancel) link a person clicked, before Dropzone's own
// handler removes it: only such a removal deletes or cancels anything on the server
// (removeAllFiles, destroy, maxfilesexceeded remove files too).
export var personRemoval = {
  applies: function (ctx) {
    return Boolean(ctx.config.deleteUrl || ctx.config.cancelUrl || ctx.config.field);
  },
  setup: function (ctx) {
    ctx.element.addEventListener("click", function (event) {
      var link = event.target && event.target.closest ? event.target.closest("[data-dz-remove]") : null;
      if (!link) return;
      ctx.dz.files.forEach(function (file) {
        if (file.previewElement && file.previewElement.contains(link)) ctx.state(file).removedByPerson = true;
      });
    }, true);
  },
};

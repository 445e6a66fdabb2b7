// While a file is uploading, leaving the page asks first.
export var leaving = {
  applies: function () { return true; },
  setup: function (ctx) {
    window.addEventListener("beforeunload", function (event) {
      if (ctx.dz.getUploadingFiles().length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  },
};

// DELETE_ON_REMOVE: a stored file's response carries a delete token (X-Dropzone-Delete,
// one per stored file); a person's click on its remove link sends it to the extension's
// delete endpoint. Removing files otherwise (removeAllFiles, destroy, maxfilesexceeded)
// deletes nothing. Files shown as stored (existing=) come with their token.
import { fail, fire } from "../core/dom.js";
import { DELETE_HEADER } from "../core/request.js";

export var deletes = {
  applies: function (ctx) {
    return Boolean(ctx.config.deleteUrl);
  },
  setup: function (ctx) {
    var dz = ctx.dz;
    dz.on("success", function (file) {
      var state = ctx.state(file);
      var header = state.deleteHeader || (file.xhr ? file.xhr.getResponseHeader(DELETE_HEADER) : null);
      if (!header) return;
      var entries;
      try {
        entries = JSON.parse(header);
      } catch (error) {
        return;
      }
      var taken = dz.files.map(function (other) { return ctx.state(other).deleteToken; });
      for (var i = 0; i < entries.length; i++) {
        if (entries[i].filename === file.name && taken.indexOf(entries[i].token) < 0) {
          state.deleteToken = entries[i].token;
          return;
        }
      }
    });
    dz.on("removedfile", function (file) {
      var state = ctx.state(file);
      if (!state.removedByPerson || !state.deleteToken) return;
      ctx.request(ctx.config.deleteUrl, { form: { token: state.deleteToken } }).then(function (answer) {
        if (!answer.ok) return fail("could not delete " + file.name + ": " + (answer.status ? answer.text : "no answer"));
        fire(ctx.element, "dropzone:deleted", { file: file });
      });
    });
  },
};

// What the extension knows of each Dropzone file, in one object kept beside the file (never
// on Dropzone's own object): stateOf(file) gives it, made on first use.
var states = new WeakMap();

export function stateOf(file) {
  var state = states.get(file);
  if (!state) {
    state = {
      existing: false, // shown as stored already (existing=, a form's pending files): not uploaded here
      removedByPerson: false, // its remove (or cancel) link was clicked: only then is anything deleted
      deleteToken: null, // what the delete endpoint takes for it (X-Dropzone-Delete)
      deleteHeader: null, // X-Dropzone-Delete of the answer that completed it, when not Dropzone's xhr
      remembered: false, // its upload is remembered in localStorage, to be resumed
      missing: null, // resuming: the indexes of the chunks (or parts) still to send, in order
      direct: null, // a direct upload: {upload, urls, expires, timer, finished}
      reference: null, // a form field's pending upload, named in the form
      input: null, // the form's hidden input carrying the reference (or keep)
    };
    states.set(file, state);
  }
  return state;
}

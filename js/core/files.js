// A Dropzone file: the parts of its preview, and how a file the extension finished ends.

export function previewParts(file, selector) {
  return file.previewElement ? file.previewElement.querySelectorAll(selector) : [];
}

// Dropzone's error for a picture it cannot draw a thumbnail of: not an outcome of the file.
export function thumbnailError(dz, message, xhr) {
  return !xhr && message === dz.options.dictThumbnailError;
}

// A file whose upload the app completed ends as Dropzone ends any stored file, its `success`
// given the answer that says what was stored ({"stored": [{"filename", "stored_name"}]}):
// a direct upload's from `complete`, not the bucket's empty answer to the last part; a
// chunked one's from the chunk request that completed it (features/chunk-answer.js).
export function succeed(dz, file, answer) {
  file.status = window.Dropzone.SUCCESS;
  dz.emit("success", file, answer);
  dz.emit("complete", file);
  if (dz.options.autoProcessQueue) dz.processQueue();
}

// A file refused once its bytes are in the bucket (its content is not what its name
// says): it ends as any refused file does, with its message under its thumbnail.
export function refuse(dz, file, message) {
  file.status = window.Dropzone.ERROR;
  dz.emit("error", file, message);
  dz.emit("complete", file);
  if (dz.options.autoProcessQueue) dz.processQueue();
}

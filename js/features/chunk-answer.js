// CHUNKING: Dropzone gives `success` the answer of the chunk request that ended last. With
// parallel chunks that is not always the one that completed the file (the server completes
// it when its last chunk arrives, and the answers may come back in another order): that one
// carries X-Dropzone-Complete, and the file ends with its answer and its delete token, so
// every `success` listener learns what was stored. Dropzone keeps each chunk's answer and
// headers on file.upload.chunks once the chunk has succeeded.
import { succeed } from "../core/files.js";
import { DELETE_HEADER } from "../core/request.js";

var COMPLETE_HEADER = "X-Dropzone-Complete";

export var chunkAnswer = {
  applies: function (ctx) {
    return !ctx.config.direct;
  },
  setup: function (ctx) {
    var dz = ctx.dz;
    var theirs = dz.options.chunksUploaded;
    dz.options.chunksUploaded = function (file, done) {
      theirs.call(this, file, function () {
        var completing = file.upload.chunks.filter(function (chunk) {
          return chunk && headerOf(chunk.responseHeaders, COMPLETE_HEADER) !== null;
        })[0];
        if (!completing) return done(); // none says so (chunks handled without save()): Dropzone's choice
        ctx.state(file).deleteHeader = headerOf(completing.responseHeaders, DELETE_HEADER);
        succeed(dz, file, answerOf(completing));
      });
    };
  },
};

function headerOf(headers, name) {
  var lines = (headers || "").split("\r\n");
  for (var i = 0; i < lines.length; i++) {
    var colon = lines[i].indexOf(":");
    if (colon > 0 && lines[i].slice(0, colon).trim().toLowerCase() === name.toLowerCase()) {
      return lines[i].slice(colon + 1).trim();
    }
  }
  return null;
}

// A chunk's answer as Dropzone reads an answer: JSON when the server says it is.
function answerOf(chunk) {
  var type = headerOf(chunk.responseHeaders, "Content-Type") || "";
  if (type.indexOf("application/json") < 0) return chunk.response;
  try {
    return JSON.parse(chunk.response);
  } catch (error) {
    return chunk.response;
  }
}

// S3_DIRECT: the browser sends each file to the bucket itself, in parts PUT to URLs the
// app presigned once it judged the file's name, size and type (each part's length signed
// in; the first part is an object of its own, the others parts of an S3 multipart upload).
// The app then judges the content and completes the upload under the file's name, or
// refuses it: the app never gets the bytes.
// All of it through Dropzone's public options: an async `accept` starts the upload,
// `url` (a function of the chunk) gives each part its URL, `chunksUploaded` completes.
import { fire } from "../core/dom.js";
import { refuse, succeed } from "../core/files.js";
import { DELETE_HEADER, unanswered } from "../core/request.js";
import { canResume, forget, onlyMissing, remember, remembered, resumeKey, stillToSend } from "./resume.js";

export var direct = {
  applies: function (ctx) {
    return Boolean(ctx.config.direct);
  },
  prepare: directUploads,
  setup: onDirect,
};

// RESUME, direct: asked for (config.resume) and not undone by the app's own options.
function resumes(ctx) {
  return Boolean(ctx.config.resume) && canResume(ctx);
}

// What a refused file shows: the app's own words, or Dropzone's for no answer.
function refusal(dz, answer) {
  if (!unanswered(answer) && !answer.ok) return answer.text || String(answer.status);
  return dz.options.dictResponseError.replace("{{statusCode}}", "0");
}

// The app's headers (CSRF token, the zone's rules) go to the app's endpoints, never to the
// bucket: S3 would refuse x- headers the URL did not sign, and they are not the bucket's.
// Dropzone calls chunksUploaded on its options, not on itself: ctx.dz is the Dropzone.
function directUploads(ctx) {
  var options = ctx.options;
  var config = ctx.config;
  var resume = resumes(ctx);
  var theirAccept = options.accept;
  ctx.appHeaders = Object.assign({}, options.headers || {});
  options.method = "PUT";
  options.binaryBody = true;
  options.chunking = true;
  options.forceChunking = true; // every file is a multipart upload, a small one of one part
  options.defaultHeaders = false;
  options.headers = null;
  options.url = function (files, blocks) {
    var state = ctx.state(files[0]);
    var index = state.missing ? state.missing[blocks[0].chunkIndex] : blocks[0].chunkIndex;
    return state.direct.urls[index];
  };
  options.accept = function (file, done) {
    var dz = ctx.dz;
    function accepted(upload) {
      ctx.state(file).direct = upload;
      keepUrlsFresh(ctx, upload);
      if (theirAccept) theirAccept.call(dz, file, done);
      else done();
    }
    function start() {
      var described = { name: file.name, size: file.size, type: file.type || "" };
      ctx.request(config.direct.start, { json: described, headers: ctx.appHeaders }).then(function (answer) {
        if (!answer.ok || unanswered(answer)) return done(refusal(dz, answer));
        if (resume) remember(ctx, file, answer.data.upload);
        accepted(answer.data);
      });
    }
    var entry = resume ? remembered(resumeKey(ctx, file), config.chunkExpires) : null;
    if (!entry) return start();
    resumeDirect(ctx, file, entry.uuid).then(function (upload) {
      if (upload) return accepted(upload);
      forget(resumeKey(ctx, file)); // finished, expired or another file: it starts over
      start();
    });
  };
  if (resume) {
    options.transformFile = function (file, done) {
      var missing = ctx.state(file).missing;
      if (!missing) return done(file);
      done(onlyMissing(file, missing, this.options.chunkSize));
    };
  }
  options.chunksUploaded = function (file) {
    var dz = ctx.dz;
    var state = ctx.state(file);
    ctx.request(config.direct.complete, { json: { upload: state.direct.upload }, headers: ctx.appHeaders })
      .then(function (answer) {
        finish(state);
        if (!answer.ok || unanswered(answer)) return refuse(dz, file, refusal(dz, answer));
        state.deleteHeader = answer.headers.get(DELETE_HEADER);
        succeed(dz, file, answer.data);
      });
  };
}

// Presigned URLs expire: a file still on its way gets fresh ones before they do.
function keepUrlsFresh(ctx, upload) {
  function refresh() {
    ctx.request(ctx.config.direct.urls, { json: { upload: upload.upload }, headers: ctx.appHeaders })
      .then(function (answer) {
        if (upload.finished) return;
        if (unanswered(answer)) upload.timer = setTimeout(refresh, 5000);
        else if (answer.ok) {
          upload.urls = answer.data.urls;
          upload.timer = setTimeout(refresh, answer.data.expires * 800);
        }
      });
  }
  upload.timer = setTimeout(refresh, upload.expires * 800);
}

function finish(state) {
  var upload = state.direct;
  if (!upload) return;
  upload.finished = true;
  clearTimeout(upload.timer);
}

// RESUME, direct: the bucket says which parts it holds (ListParts, through the app); the
// file sends the others, each to its own part's URL (transformFile keeps only them).
function resumeDirect(ctx, file, upload) {
  var status;
  var headers = ctx.appHeaders;
  return ctx.request(ctx.config.direct.status, { query: { upload: upload }, headers: headers })
    .then(function (answer) {
      status = answer.ok ? answer.data : null;
      if (!status || status.size !== file.size || status.partSize !== ctx.dz.options.chunkSize) return null;
      return ctx.request(ctx.config.direct.urls, { json: { upload: upload }, headers: headers });
    })
    .then(function (answer) {
      var fresh = answer && answer.ok ? answer.data : null;
      if (!fresh) return null;
      var state = ctx.state(file);
      state.missing = stillToSend(status.parts, status.held, 1); // parts are numbered from 1
      state.remembered = true;
      return { upload: upload, urls: fresh.urls, expires: fresh.expires };
    })
    .catch(function () {
      return null;
    });
}

// A file cancelled (its cancel link, removeAllFiles(true), destroy) or removed before it was
// stored: its multipart upload is aborted at once, not left to the sweep. Dropzone reports a
// cancelled upload as an error ("Upload canceled") before it says "canceled" and before the
// file is removed, so only an upload the app ended (stored, refused) counts as finished.
function onDirect(ctx) {
  var dz = ctx.dz;
  function abort(file) {
    var state = ctx.state(file);
    var upload = state.direct;
    if (!upload || upload.finished) return;
    finish(state);
    if (state.remembered) forget(resumeKey(ctx, file));
    ctx.request(ctx.config.direct.abort, { json: { upload: upload.upload }, headers: ctx.appHeaders })
      .then(function (answer) {
        if (answer.status) fire(ctx.element, "dropzone:cancelled", { file: file });
      });
  }
  dz.on("canceled", abort);
  dz.on("removedfile", abort);
  dz.on("success", function (file) {
    if (ctx.state(file).remembered) forget(resumeKey(ctx, file));
  });
  if (resumes(ctx)) {
    // a file that was refused once its bytes were in the bucket starts over if added again
    dz.on("error", function (file) {
      var state = ctx.state(file);
      if (state.direct && state.direct.finished && state.remembered) forget(resumeKey(ctx, file));
    });
  }
  dz.on("error", function (file) {
    if (file.status !== window.Dropzone.CANCELED) finish(ctx.state(file));
  });
}

// RESUME: a chunked upload is remembered in localStorage (by zone URL, id and rules, file
// name, size, type, lastModified and chunk size) until it succeeds, is removed, or CHUNK_EXPIRES
// passes. The same file added again asks the server which chunks it holds and sends
// only the others, into the same upload, through Dropzone's public options: an async
// `accept` looks the upload up, `transformFile` keeps only the missing chunks, and
// `params` gives each its own index and offset in the whole file. (Direct uploads resume
// their own way, with the helpers below: features/direct.js.)
import { unanswered } from "../core/request.js";

var RESUME_PREFIX = "flask-dropzone:upload:";

export var resume = {
  applies: function (ctx) {
    return !ctx.config.direct && Boolean(ctx.config.statusUrl) && canResume(ctx);
  },
  prepare: resumable,
  setup: function (ctx) {
    var dz = ctx.dz;
    dz.on("sending", function (file) {
      if (!file.upload || !file.upload.chunked || ctx.state(file).remembered) return;
      // (sent again after a failure, a resumed file keeps its entry: it is the same upload)
      remember(ctx, file, file.upload.uuid);
    });
    dz.on("success", function (file) {
      if (ctx.state(file).remembered) forget(resumeKey(ctx, file));
    });
    dz.on("removedfile", function (file) {
      var state = ctx.state(file);
      if (state.removedByPerson && state.remembered) forget(resumeKey(ctx, file));
    });
  },
};

// Options of the app's own that resuming would undo (or that change the bytes sent).
export function canResume(ctx) {
  var custom = ctx.hooks.options || {};
  return !custom.transformFile && !custom.params && !ctx.options.resizeWidth && !ctx.options.resizeHeight;
}

// A zone's uploads are remembered under its own key: its URL, its id and its rules' key,
// so that a file started in one zone is never resumed into another.
export function resumeKey(ctx, file) {
  var options = ctx.dz.options;
  var url = typeof options.url === "string" ? new URL(options.url, window.location.href).href : "";
  return RESUME_PREFIX + JSON.stringify(
    [url, ctx.config.id, ctx.config.zoneKey, file.name, file.size, file.type, file.lastModified, options.chunkSize]
  );
}

export function forget(key) {
  try {
    window.localStorage.removeItem(key);
  } catch (error) {
    /* storage off: nothing was remembered */
  }
}

export function remembered(key, expires) {
  var entry = null;
  try {
    entry = JSON.parse(window.localStorage.getItem(key));
  } catch (error) {
    entry = null;
  }
  if (!entry || typeof entry.uuid !== "string" || !(Date.now() - entry.time < expires * 1000)) {
    forget(key);
    return null;
  }
  return entry;
}

// `upload` names the upload: the chunked upload's uuid, or a direct upload's token.
export function remember(ctx, file, upload) {
  ctx.state(file).remembered = true;
  try {
    window.localStorage.setItem(resumeKey(ctx, file), JSON.stringify({ uuid: upload, time: Date.now() }));
  } catch (error) {
    /* storage full or off: this upload cannot be resumed */
  }
}

// The indexes of the `count` chunks not among `held` (numbered from `first`); all held: the
// last one, sent again to hand the upload over.
export function stillToSend(count, held, first) {
  var have = {};
  held.forEach(function (number) { have[number] = true; });
  var missing = [];
  for (var index = 0; index < count; index++) if (!have[index + first]) missing.push(index);
  if (!missing.length) missing.push(count - 1);
  return missing;
}

// The bytes a resumed file sends: only its missing chunks, one after the other.
export function onlyMissing(file, missing, size) {
  return new Blob(missing.map(function (index) {
    return file.slice(index * size, Math.min((index + 1) * size, file.size));
  }));
}

function resumable(ctx) {
  var options = ctx.options;
  var config = ctx.config;
  var theirAccept = options.accept;
  var forceChunking = Boolean(options.forceChunking);
  options.accept = function (file, done) {
    var dz = this;
    var finish = function () {
      if (theirAccept) theirAccept.call(dz, file, done);
      else done();
    };
    var chunked = dz.options.chunking && (forceChunking || file.size > dz.options.chunkSize);
    if (!chunked) return finish();
    var key = resumeKey(ctx, file);
    var entry = remembered(key, config.chunkExpires);
    if (!entry) return finish();
    ctx.request(config.statusUrl, { query: { dzuuid: entry.uuid } })
      .then(function (answer) {
        if (unanswered(answer)) return; // the server could not say: upload from the start
        var status = answer.ok ? answer.data : null;
        if (!status || status.size !== file.size || status.chunkSize !== dz.options.chunkSize) {
          forget(key); // expired, finished, refused or another file: it starts over
          return;
        }
        var missing = stillToSend(status.count, status.held, 0);
        file.upload.uuid = entry.uuid;
        ctx.state(file).missing = missing;
      })
      .catch(function () {
        /* an answer of another shape: upload from the start */
      })
      .then(finish);
  };
  options.transformFile = function (file, done) {
    var missing = ctx.state(file).missing;
    // Dropzone decides whether to chunk from what this gives: the missing chunks of a
    // file are chunks even when they are fewer bytes than one.
    this.options.forceChunking = forceChunking || Boolean(missing);
    if (!missing) return done(file);
    done(onlyMissing(file, missing, this.options.chunkSize));
  };
  options.params = function (files, xhr, chunk) {
    if (!chunk) return undefined;
    var file = chunk.file;
    var size = this.options.chunkSize;
    var missing = ctx.state(file).missing;
    var index = missing ? missing[chunk.index] : chunk.index;
    return {
      dzuuid: file.upload.uuid,
      dzchunkindex: index,
      dztotalfilesize: file.size,
      dzchunksize: size,
      dztotalchunkcount: Math.ceil(file.size / size),
      dzchunkbyteoffset: index * size,
    };
  };
}

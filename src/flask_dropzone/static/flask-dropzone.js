/* Flask-Dropzone: sets up every zone described by a
 * <script type="application/json" data-dropzone-config> block on the page.
 * Served as a static file so that pages need no inline script (strict CSP).
 * Assembled by scripts/build_js.py from the modules in js/: edit those, then `make js`.
 */
(function () {
  "use strict";

// js/core/dom.js
// Small helpers on the page, for every module.

function fail(message) {
  console.error("flask-dropzone: " + message);
}

function filled(text, values) {
  return text.replace(/\{\{(\w+)\}\}/g, function (whole, name) {
    return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
  });
}

function safeUrl(url) {
  try {
    var target = new URL(url, window.location.href);
    return target.protocol === "http:" || target.protocol === "https:" ? target.href : null;
  } catch (error) {
    return null;
  }
}

function foreign(url) {
  return new URL(url, window.location.href).origin !== window.location.origin;
}

function sameUrl(a, b) {
  return new URL(a, window.location.href).href === new URL(b, window.location.href).href;
}

// The zone's own events (dropzone:init, dropzone:deleted, dropzone:cancelled) bubble from its element.
function fire(element, name, detail) {
  element.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
}

// js/core/aria.js
// What assistive technology needs: a live region to say outcomes through, named progress bars.

// Visually hidden through the CSSOM (allowed under a strict CSP), so that it stays hidden
// without the extension's stylesheet too.
function visuallyHidden(node) {
  var style = { position: "absolute", width: "1px", height: "1px", margin: "-1px", padding: "0",
    overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap", border: "0" };
  Object.keys(style).forEach(function (key) { node.style[key] = style[key]; });
}

// Outcomes are said through a polite live region next to the zone: one line per outcome,
// the last few kept, so that the same words said twice are said twice.
function announcer(element) {
  var region = document.createElement("div");
  region.className = "fdz-announcer";
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  visuallyHidden(region);
  element.insertAdjacentElement("afterend", region);
  return function (text) {
    var line = document.createElement("p");
    line.textContent = text;
    region.appendChild(line);
    while (region.childNodes.length > 5) region.removeChild(region.firstChild);
  };
}

function progressBar(node, label) {
  node.setAttribute("role", "progressbar");
  node.setAttribute("aria-label", label);
  node.setAttribute("aria-valuemin", "0");
  node.setAttribute("aria-valuemax", "100");
  node.setAttribute("aria-valuenow", "0");
}

function showProgress(bar, percent, progress) {
  var value = String(Math.floor(progress));
  bar.setAttribute("aria-valuenow", value);
  if (percent) percent.textContent = value + "%";
}

// js/core/request.js
// The one way to the app's endpoints (delete, cancel, discard, resume status, direct uploads,
// rules): the session's cookie, X-Requested-With, the zone's CSRF token on every request, and
// one kind of answer.

var RULES_HEADER = "X-Dropzone-Zone";
var CSRF_HEADER = "X-CSRF-Token"; // the token in Dropzone's own headers (create(csrf=True))
var DELETE_HEADER = "X-Dropzone-Delete";

// A zone's request(url, how): `how.query` (fields) goes in the URL, `how.form` (fields, urlencoded)
// or `how.json` (a value) is the body of a POST, `how.headers` are added. The promise never
// fails: it gives {ok, status, text, data, headers}, `data` the body read as JSON (null if it is
// not JSON), `status` 0 when no answer came (offline, the network refused it).
function requester(config) {
  return function request(url, how) {
    var headers = Object.assign({ "X-Requested-With": "XMLHttpRequest" }, how.headers);
    var init = { method: "GET", credentials: "same-origin", headers: headers };
    if (how.query) url += "?" + new URLSearchParams(how.query);
    if (how.form) {
      init.method = "POST";
      init.body = new URLSearchParams(how.form);
    } else if (how.json !== undefined) {
      init.method = "POST";
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(how.json);
    }
    if (config.csrf) headers["X-CSRFToken"] = config.csrf.token;
    return fetch(url, init).then(read).catch(none);
  };
}

function read(response) {
  return response.text().then(function (text) {
    var data = null;
    try {
      data = JSON.parse(text);
    } catch (error) {
      data = null;
    }
    return { ok: response.ok, status: response.status, text: text, data: data, headers: response.headers };
  });
}

function none() {
  return { ok: false, status: 0, text: "", data: null, headers: new Headers() };
}

// Not the endpoint's answer: none came, or something else answered for it (a proxy's or a
// captive portal's page instead of the endpoint's JSON): worth asking again later.
function unanswered(answer) {
  return !answer.status || (answer.ok && answer.data === null);
}

// js/core/state.js
// What the extension knows of each Dropzone file, in one object kept beside the file (never
// on Dropzone's own object): stateOf(file) gives it, made on first use.
var states = new WeakMap();

function stateOf(file) {
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

// js/core/files.js
// A Dropzone file: the parts of its preview, and how a file the extension finished ends.

function previewParts(file, selector) {
  return file.previewElement ? file.previewElement.querySelectorAll(selector) : [];
}

// Dropzone's error for a picture it cannot draw a thumbnail of: not an outcome of the file.
function thumbnailError(dz, message, xhr) {
  return !xhr && message === dz.options.dictThumbnailError;
}

// A file whose upload the app completed ends as Dropzone ends any stored file, its `success`
// given the answer that says what was stored ({"stored": [{"filename", "stored_name"}]}):
// a direct upload's from `complete`, not the bucket's empty answer to the last part; a
// chunked one's from the chunk request that completed it (features/chunk-answer.js).
function succeed(dz, file, answer) {
  file.status = window.Dropzone.SUCCESS;
  dz.emit("success", file, answer);
  dz.emit("complete", file);
  if (dz.options.autoProcessQueue) dz.processQueue();
}

// A file refused once its bytes are in the bucket (its content is not what its name
// says): it ends as any refused file does, with its message under its thumbnail.
function refuse(dz, file, message) {
  file.status = window.Dropzone.ERROR;
  dz.emit("error", file, message);
  dz.emit("complete", file);
  if (dz.options.autoProcessQueue) dz.processQueue();
}

// js/features/accessibility.js
// Each preview: a named progress bar with its percentage, a remove link that is a button
// to the keyboard (Enter and Space), a thumbnail that says nothing the name does not. Each
// outcome is said through the zone's live region; the focus of a removed file's link goes
// back to the zone's button.

var accessibility = {
  applies: function () { return true; },
  setup: function (ctx) {
    accessiblePreviews(ctx);
    sayOutcomes(ctx.dz, ctx.say);
  },
};

function accessiblePreviews(ctx) {
  var dz = ctx.dz;
  var say = ctx.say;
  dz.on("addedfile", function (file) {
    var preview = file.previewElement;
    if (!preview) return;
    var images = preview.querySelectorAll("[data-dz-thumbnail]");
    for (var i = 0; i < images.length; i++) images[i].alt = "";
    var bars = preview.querySelectorAll(".dz-progress");
    for (var j = 0; j < bars.length; j++) {
      progressBar(bars[j], file.name);
      var percent = document.createElement("span");
      percent.className = "fdz-percent";
      percent.setAttribute("aria-hidden", "true");
      percent.textContent = "0%";
      bars[j].insertAdjacentElement("afterend", percent);
    }
    var links = preview.querySelectorAll("[data-dz-remove]");
    nameLinks(file);
    for (var k = 0; k < links.length; k++) {
      links[k].setAttribute("role", "button");
      // Space acts on release, as on a button (and not on what has the focus after it)
      links[k].addEventListener("keydown", function (event) {
        if (event.key === " ") event.preventDefault(); // no scrolling
      });
      links[k].addEventListener("keyup", function (event) {
        if (event.key === " ") {
          event.preventDefault();
          event.currentTarget.click();
        }
      });
    }
  });
  dz.on("processing", nameLinks);
  dz.on("complete", nameLinks);
  dz.on("uploadprogress", function (file, progress) {
    var bars = previewParts(file, ".dz-progress");
    var percents = previewParts(file, ".fdz-percent");
    for (var i = 0; i < bars.length; i++) showProgress(bars[i], percents[i], progress);
  });
  dz.on("success", function (file) {
    var bars = previewParts(file, ".dz-progress");
    var percents = previewParts(file, ".fdz-percent");
    for (var i = 0; i < bars.length; i++) showProgress(bars[i], percents[i], 100);
    if (!ctx.state(file).existing) say(filled(ctx.config.texts.fileUploaded, { filename: file.name }));
  });
  dz.on("error", function (file, message, xhr) {
    // several files in one request: said once each file shows its own outcome (sayOutcomes)
    if (thumbnailError(dz, message, xhr) || (xhr && dz.options.uploadMultiple)) return;
    var shown = previewParts(file, "[data-dz-errormessage]");
    var text = shown.length ? shown[0].textContent : typeof message === "string" ? message : "";
    if (text) say(file.name + ": " + text);
  });
  // Removing a file from the keyboard takes the focus away with its preview: it goes
  // back to the zone's button.
  dz.on("removedfile", function () {
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var button = dz.element.querySelector(".dz-message .dz-button");
    if (button) button.focus();
  });
}

// Dropzone rewords the link as the upload starts (cancel) and ends (remove): its name follows.
function nameLinks(file) {
  var links = previewParts(file, "[data-dz-remove]");
  for (var i = 0; i < links.length; i++) links[i].setAttribute("aria-label", links[i].textContent + ": " + file.name);
}

// Several files in one request that the server judged one by one: each outcome is said
// once the previews show them.
function sayOutcomes(dz, say) {
  dz.on("errormultiple", function (files) {
    files.forEach(function (file) {
      if (file.status === window.Dropzone.SUCCESS) return; // said by its success event
      var shown = previewParts(file, "[data-dz-errormessage]");
      if (shown.length && shown[0].textContent) say(file.name + ": " + shown[0].textContent);
    });
  });
}

// js/features/cancel.js
// CHUNKING: a file removed by a person while its chunks are on their way ends its
// partial upload on the server now, not at the sweep.

var cancel = {
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

// js/features/chunk-answer.js
// CHUNKING: Dropzone gives `success` the answer of the chunk request that ended last. With
// parallel chunks that is not always the one that completed the file (the server completes
// it when its last chunk arrives, and the answers may come back in another order): that one
// carries X-Dropzone-Complete, and the file ends with its answer and its delete token, so
// every `success` listener learns what was stored. Dropzone keeps each chunk's answer and
// headers on file.upload.chunks once the chunk has succeeded.

var COMPLETE_HEADER = "X-Dropzone-Complete";

var chunkAnswer = {
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

// js/features/deletes.js
// DELETE_ON_REMOVE: a stored file's response carries a delete token (X-Dropzone-Delete,
// one per stored file); a person's click on its remove link sends it to the extension's
// delete endpoint. Removing files otherwise (removeAllFiles, destroy, maxfilesexceeded)
// deletes nothing. Files shown as stored (existing=) come with their token.

var deletes = {
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

// js/features/resume.js
// RESUME: a chunked upload is remembered in localStorage (by zone URL, id and rules, file
// name, size, type, lastModified and chunk size) until it succeeds, is removed, or CHUNK_EXPIRES
// passes. The same file added again asks the server which chunks it holds and sends
// only the others, into the same upload, through Dropzone's public options: an async
// `accept` looks the upload up, `transformFile` keeps only the missing chunks, and
// `params` gives each its own index and offset in the whole file. (Direct uploads resume
// their own way, with the helpers below: features/direct.js.)

var RESUME_PREFIX = "flask-dropzone:upload:";

var resume = {
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
function canResume(ctx) {
  var custom = ctx.hooks.options || {};
  return !custom.transformFile && !custom.params && !ctx.options.resizeWidth && !ctx.options.resizeHeight;
}

// A zone's uploads are remembered under its own key: its URL, its id and its rules' key,
// so that a file started in one zone is never resumed into another.
function resumeKey(ctx, file) {
  var options = ctx.dz.options;
  var url = typeof options.url === "string" ? new URL(options.url, window.location.href).href : "";
  return RESUME_PREFIX + JSON.stringify(
    [url, ctx.config.id, ctx.config.zoneKey, file.name, file.size, file.type, file.lastModified, options.chunkSize]
  );
}

function forget(key) {
  try {
    window.localStorage.removeItem(key);
  } catch (error) {
    /* storage off: nothing was remembered */
  }
}

function remembered(key, expires) {
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
function remember(ctx, file, upload) {
  ctx.state(file).remembered = true;
  try {
    window.localStorage.setItem(resumeKey(ctx, file), JSON.stringify({ uuid: upload, time: Date.now() }));
  } catch (error) {
    /* storage full or off: this upload cannot be resumed */
  }
}

// The indexes of the `count` chunks not among `held` (numbered from `first`); all held: the
// last one, sent again to hand the upload over.
function stillToSend(count, held, first) {
  var have = {};
  held.forEach(function (number) { have[number] = true; });
  var missing = [];
  for (var index = 0; index < count; index++) if (!have[index + first]) missing.push(index);
  if (!missing.length) missing.push(count - 1);
  return missing;
}

// The bytes a resumed file sends: only its missing chunks, one after the other.
function onlyMissing(file, missing, size) {
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

// js/features/direct.js
// S3_DIRECT: the browser sends each file to the bucket itself, in parts PUT to URLs the
// app presigned once it judged the file's name, size and type (each part's length signed
// in; the first part is an object of its own, the others parts of an S3 multipart upload).
// The app then judges the content and completes the upload under the file's name, or
// refuses it: the app never gets the bytes.
// All of it through Dropzone's public options: an async `accept` starts the upload,
// `url` (a function of the chunk) gives each part its URL, `chunksUploaded` completes.

var direct = {
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

// js/features/existing.js
// existing=: files already stored, shown as uploaded, counted against maxFiles (they are
// accepted files of the zone), each with its remove link (and delete token, if any).

var existing = {
  applies: function (ctx) {
    return !ctx.config.field && Boolean(ctx.config.existing && ctx.config.existing.length);
  },
  setup: function (ctx) {
    showExisting(ctx, ctx.config.existing);
  },
};

// The files shown, in the order of `entries` (a form field shows its own this way too).
function showExisting(ctx, entries) {
  var dz = ctx.dz;
  var shown = [];
  entries.forEach(function (entry) {
    var file = {
      name: entry.filename || entry.name, // the person's name for it, when the page knows it
      size: entry.size,
      accepted: true,
      status: window.Dropzone.SUCCESS,
    };
    var state = ctx.state(file);
    state.existing = true;
    state.deleteToken = entry.token || null;
    shown.push(file);
    dz.files.push(file);
    dz.emit("addedfile", file);
    var thumbnail = entry.thumbnail ? safeUrl(entry.thumbnail) : null;
    if (thumbnail) dz.emit("thumbnail", file, thumbnail);
    dz.emit("complete", file);
    if (file.previewElement) {
      file.previewElement.classList.add("dz-success");
      var url = entry.url ? safeUrl(entry.url) : null;
      var names = file.previewElement.querySelectorAll("[data-dz-name]");
      for (var i = 0; url && i < names.length; i++) {
        var link = document.createElement("a");
        link.href = url;
        link.textContent = file.name;
        names[i].textContent = "";
        names[i].appendChild(link);
      }
    }
  });
  var max = dz.options.maxFiles;
  if (max != null && dz.getAcceptedFiles().length >= max) {
    dz.element.classList.add("dz-max-files-reached"); // as Dropzone marks a full zone
    if (dz.getAcceptedFiles().length === max) dz.emit("maxfilesreached", dz.files);
  }
  return shown;
}

// js/features/field.js
// DropzoneField: a zone inside a form whose files upload as they are dropped, to be kept
// pending by the server, and go with the form as references (hidden inputs named as the
// field), never as bytes. A form shown again (with errors) shows them as uploaded.

var field = {
  applies: function (ctx) {
    return Boolean(ctx.config.field);
  },
  setup: fieldZone,
};

function fieldZone(ctx) {
  var dz = ctx.dz;
  var config = ctx.config;
  var field = config.field;
  var form = ctx.form;
  if (!form) return fail("form field zone " + JSON.stringify(config.id) + " is not inside a <form>");
  // What browsers without JavaScript use (a file input, a checkbox per file kept) leaves
  // the form: no file goes twice, and the zone's own inputs say what is kept.
  var fallbacks = form.querySelectorAll("[data-dropzone-fallback]");
  for (var i = 0; i < fallbacks.length; i++) {
    if (fallbacks[i].getAttribute("data-dropzone-fallback") === config.id) fallbacks[i].remove();
  }
  // The field's <label for=...> names a <div>, which a click does nothing for: it opens the
  // file picker, as a label of a file input does.
  var labels = document.querySelectorAll("label[for]");
  for (var l = 0; l < labels.length; l++) {
    if (labels[l].htmlFor !== config.id) continue;
    labels[l].addEventListener("click", function (event) {
      event.preventDefault();
      if (dz.hiddenFileInput) dz.hiddenFileInput.click();
    });
  }
  function input(value) {
    var inputs = form.querySelectorAll("input[type=hidden][data-dropzone-reference]");
    for (var j = 0; j < inputs.length; j++) {
      if (inputs[j].name === field.name && inputs[j].value === value) return inputs[j];
    }
    var made = document.createElement("input");
    made.type = "hidden";
    made.name = field.name;
    made.value = value;
    made.setAttribute("data-dropzone-reference", "");
    form.appendChild(made);
    return made;
  }
  showExisting(ctx, config.existing).forEach(function (file, index) {
    ctx.state(file).input = input(config.existing[index].keep);
  });
  showExisting(ctx, field.pending).forEach(function (file, index) {
    var state = ctx.state(file);
    state.reference = field.pending[index].reference;
    state.input = input(state.reference);
  });
  dz.on("success", function (file, answer) {
    var entry = answer && Array.isArray(answer.files) ? answer.files[0] : null;
    if (!entry) return;
    var state = ctx.state(file);
    state.reference = entry.reference;
    state.input = input(entry.reference);
    // In the zone's order, not the order uploads ended in: the form shown again, and the
    // files claimed, keep the order the person gave.
    dz.files.forEach(function (each) {
      var own = ctx.state(each).input;
      if (own) form.appendChild(own);
    });
  });
  // Removed: its input goes; a pending file its person removed is discarded on the server
  // at once (a stored file is not: the view learns of it from the field's `removed`).
  dz.on("removedfile", function (file) {
    var state = ctx.state(file);
    if (state.input) state.input.remove();
    if (state.removedByPerson && state.reference) {
      ctx.request(field.discardUrl, { form: { reference: state.reference } });
    }
  });
  waitForFiles(ctx, form);
}

// Submitted while files are on their way: the form goes once they arrived. Meanwhile it
// says so on screen (and to screen readers), and its submit buttons cannot be pressed.
// Once sent, it is not sent again until the page is shown anew.
function waitForFiles(ctx, form) {
  var dz = ctx.dz;
  var waiting = null;
  var sent = false; // the form is on its way: a second press would send it twice
  window.addEventListener("pageshow", function () { sent = false; }); // back to it
  form.addEventListener("submit", function (event) {
    if (sent) return event.preventDefault();
    if (!dz.getUploadingFiles().length && !dz.getQueuedFiles().length) {
      setTimeout(function () { sent = !event.defaultPrevented; }); // once every listener ran
      return;
    }
    event.preventDefault();
    if (waiting) return;
    waiting = { submitter: event.submitter || null, buttons: submitButtons(form), notice: null };
    waiting.buttons.forEach(function (button) { button.disabled = true; });
    waiting.notice = document.createElement("p");
    waiting.notice.className = "fdz-waiting";
    waiting.notice.setAttribute("aria-hidden", "true"); // said through the live region
    waiting.notice.textContent = ctx.config.texts.waiting;
    ctx.element.insertAdjacentElement("afterend", waiting.notice);
    ctx.say(ctx.config.texts.waiting);
  });
  dz.on("queuecomplete", function () {
    if (!waiting) return;
    var submitter = waiting.submitter;
    waiting.buttons.forEach(function (button) { button.disabled = false; });
    waiting.notice.remove();
    waiting = null;
    if (submitter && submitter.form === form) form.requestSubmit(submitter);
    else form.requestSubmit();
  });
}

// The form's submit buttons that can be pressed now (those of the form= attribute too).
function submitButtons(form) {
  return Array.prototype.filter.call(form.elements, function (control) {
    var kind = control.type;
    var submits = control.tagName === "BUTTON" ? kind === "submit" : kind === "submit" || kind === "image";
    return submits && !control.disabled;
  });
}

// js/features/in-form.js
// In-form mode (in_form=True): the zone is part of a form, and its files go when the form
// is submitted: with the form in one request, or first to UPLOAD_ACTION.

var inForm = {
  applies: function (ctx) {
    return Boolean(ctx.config.inForm);
  },
  prepare: function (ctx) {
    if (!ctx.form) {
      fail("in-form zone " + JSON.stringify(ctx.config.id) + " is not inside a <form>");
      return false;
    }
    ctx.options.url = ctx.config.uploadUrl || ctx.form.action;
  },
  setup: function (ctx) {
    var config = ctx.config;
    var form = ctx.form;
    if (config.uploadUrl && !sameUrl(config.uploadUrl, form.action)) {
      uploadFilesThenSubmit(ctx.dz, form, config);
    } else {
      sendFilesWithForm(ctx.dz, form, config);
    }
    if (config.uploadOnClick) {
      var button = document.getElementById(config.uploadButton);
      if (button && button.type !== "submit") {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          form.requestSubmit();
        });
      }
    }
  },
};

function hiddenInput(form, name, value) {
  var input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  form.appendChild(input);
}

function addCsrfField(form, config) {
  if (foreign(form.action)) return; // the token is the app's: not for another origin
  if (config.csrf && !form.querySelector('[name="' + CSS.escape(config.csrf.field) + '"]')) {
    hiddenInput(form, config.csrf.field, config.csrf.token);
  }
}

// One request: the files travel with the form's own fields in one native submission, so
// the browser follows the response (redirect or re-rendered form).
function sendFilesWithForm(dz, form, config) {
  form.addEventListener("submit", function () {
    var added = form.querySelectorAll("input[data-dropzone-files]");
    for (var i = 0; i < added.length; i++) added[i].remove();
    dz.getAcceptedFiles().forEach(function (file, index) {
      var transfer = new DataTransfer();
      transfer.items.add(file);
      var input = document.createElement("input");
      input.type = "file";
      input.hidden = true;
      input.name = dz.options.paramName + "[" + index + "]";
      input.setAttribute("data-dropzone-files", "");
      input.files = transfer.files;
      form.appendChild(input);
    });
    addCsrfField(form, config);
    form.enctype = "multipart/form-data";
  });
}

// Files first (UPLOAD_ACTION names another URL than the form's, as in Flask-Dropzone 2.0.0):
// submitting uploads the queued files to UPLOAD_ACTION, then, if every file succeeded,
// submits the form natively to its own action. A failed file keeps the page where it is,
// with the file's message shown.
function uploadFilesThenSubmit(dz, form, config) {
  var uploading = false; // the files of a submission are on their way
  var sending = false; // the form's own submission, after the files
  var submitter = null;
  form.addEventListener("submit", function (event) {
    if (sending) return;
    var queued = dz.getQueuedFiles();
    var failed = dz.getFilesWithStatus(window.Dropzone.ERROR);
    if (!queued.length && !failed.length) {
      addCsrfField(form, config);
      return; // nothing left to upload: the form goes as it is
    }
    event.preventDefault();
    if (!queued.length) return; // a failed file: stay and show it
    submitter = event.submitter || null;
    uploading = true;
    dz.options.autoProcessQueue = true;
    dz.processQueue();
  });
  dz.on("queuecomplete", function () {
    if (!uploading) return; // a file refused as it was added, say
    uploading = false;
    dz.options.autoProcessQueue = false;
    var done = dz.files.length > 0 && dz.files.every(function (file) {
      return file.status === window.Dropzone.SUCCESS;
    });
    if (!done) return;
    addCsrfField(form, config);
    sending = true;
    if (submitter && submitter.form === form) form.requestSubmit(submitter);
    else form.requestSubmit();
    sending = false;
  });
}

// js/features/leaving.js
// While a file is uploading, leaving the page asks first.
var leaving = {
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

// js/features/not-kept.js
// In-form mode, a form that came back with errors: the files it carried were not kept,
// and the zone says so, by name, until a file is added again. Elements of the page
// marked data-dropzone-error-for="<zone id>" (the app's own error for the files) go too.

var notKept = {
  applies: function () { return true; },
  setup: function (ctx) {
    var config = ctx.config;
    var notice = null;
    if (config.notKept && config.notKept.length) {
      notice = document.createElement("p");
      notice.className = "fdz-notice";
      notice.textContent = filled(config.texts.filesNotKept, { filenames: config.notKept.join(", ") });
      ctx.element.insertBefore(notice, ctx.element.firstChild);
      ctx.say(notice.textContent);
    }
    ctx.dz.on("addedfile", function () {
      if (notice) notice.remove();
      notice = null;
      var stale = document.querySelectorAll("[data-dropzone-error-for]");
      for (var i = 0; i < stale.length; i++) {
        if (stale[i].getAttribute("data-dropzone-error-for") === config.id) stale[i].hidden = true;
      }
    });
  },
};

// js/features/outcomes.js
// What a file's preview shows of its outcome: words a person can read, one outcome at a
// time, its size in the unit it is best read in, and each file's own outcome when several
// went in one request.

var outcomes = {
  applies: function () { return true; },
  setup: function (ctx) {
    readableErrors(ctx.dz);
    oneOutcome(ctx.dz);
    showSize(ctx.dz);
    eachItsOwn(ctx.dz);
  },
};

// The message a file's preview shows, in words a person can read:
// - a picture Dropzone cannot draw a thumbnail of (an HTML page named .png, say) is not a
//   refused file: Dropzone would mark it as one, with its thumbnail message over the
//   server's. The preview keeps its plain icon and the file its own outcome;
// - an HTML error page (a proxy's, Werkzeug's 500) is not shown as markup source:
//   SERVER_ERROR says it, with its status. A view's own words stay, whatever their
//   Content-Type (Flask sends a returned string as text/html);
// - a file just over the limit does not read as the limit itself: its size is rounded
//   up there ("5.01 MiB" for 5 MiB and a byte), as the server says it.
function readableErrors(dz) {
  var show = dz.options.error;
  if (typeof show !== "function") return;
  dz.off("error", show);
  dz.on("error", function (file, message, xhr) {
    var options = dz.options;
    if (thumbnailError(dz, message, xhr)) {
      if (file.previewElement) file.previewElement.classList.add("dz-no-thumbnail");
      return;
    }
    if (xhr && typeof message === "string" && /^\s*<(!doctype|html|head|body)\b/i.test(message)) {
      message = options.dictResponseError.replace("{{statusCode}}", xhr.status);
    } else if (!xhr && options.maxFilesize != null && typeof message === "string") {
      var template = options.dictFileTooBig.replace("{{maxFilesize}}", options.maxFilesize);
      var rounded = Math.round(file.size / 1024 / 10.24) / 100;
      if (rounded <= options.maxFilesize && message === template.replace("{{filesize}}", rounded)) {
        message = template.replace("{{filesize}}", Math.ceil((file.size * 100) / 1048576) / 100);
      }
    }
    show.call(this, file, message, xhr);
  });
}

// A file has one outcome: stored or refused, never both marks at once.
function oneOutcome(dz) {
  dz.on("success", function (file) {
    if (!file.previewElement) return;
    file.previewElement.classList.remove("dz-error");
    var messages = previewParts(file, "[data-dz-errormessage]");
    for (var i = 0; i < messages.length; i++) messages[i].textContent = "";
  });
  dz.on("error", function (file, message, xhr) {
    if (file.previewElement && !thumbnailError(dz, message, xhr)) file.previewElement.classList.remove("dz-success");
  });
}

// A file's size in the unit it is best read in: "200 MiB", not Dropzone's "0.2 GiB" (it takes
// the larger unit from a tenth of it on).
function showSize(dz) {
  var units = ["b", "kb", "mb", "gb", "tb"];
  dz.on("addedfile", function (file) {
    var base = dz.options.filesizeBase;
    var power = 0;
    while (power < units.length - 1 && file.size >= Math.pow(base, power + 1)) power++;
    var amount = Math.round((10 * file.size) / Math.pow(base, power)) / 10;
    var nodes = previewParts(file, "[data-dz-size]");
    for (var i = 0; i < nodes.length; i++) {
      var strong = document.createElement("strong");
      strong.textContent = String(amount);
      nodes[i].replaceChildren(strong, " " + dz.options.dictFileSizeUnits[units[power]]);
    }
  });
}

// Several files in one request: when some are refused, the server answers with one
// outcome per file (JSON, in the order sent); each preview shows its own.
function eachItsOwn(dz) {
  dz.on("errormultiple", function (files, response) {
    if (!response || !Array.isArray(response.files) || response.files.length !== files.length) return;
    files.forEach(function (file, index) {
      var outcome = response.files[index];
      var messages = previewParts(file, "[data-dz-errormessage]");
      if (outcome.error === undefined) {
        file.status = window.Dropzone.SUCCESS;
        if (file.previewElement) file.previewElement.classList.remove("dz-error");
        for (var i = 0; i < messages.length; i++) messages[i].textContent = "";
        dz.emit("success", file, outcome);
      } else {
        for (var j = 0; j < messages.length; j++) messages[j].textContent = outcome.error;
      }
    });
  });
}

// js/features/person-removal.js
// Marks the file whose remove (or cancel) link a person clicked, before Dropzone's own
// handler removes it: only such a removal deletes or cancels anything on the server
// (removeAllFiles, destroy, maxfilesexceeded remove files too).
var personRemoval = {
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

// js/features/progress.js
// The queue's total progress: the bytes of every file sent since the queue started,
// weighed by size. (Dropzone's totaluploadprogress counts only the files still active, so
// it drops back each time a file finishes before the others.)

var progress = {
  applies: function () { return true; },
  setup: function (ctx) {
    totalProgress(ctx.dz, ctx.element, ctx.config.texts);
  },
};

function totalProgress(dz, element, texts) {
  var box = document.createElement("div");
  box.className = "fdz-total";
  box.hidden = true;
  var bar = document.createElement("div");
  bar.className = "fdz-total-bar";
  progressBar(bar, texts.totalProgress);
  var fill = document.createElement("span");
  fill.className = "fdz-total-fill";
  bar.appendChild(fill);
  var percent = document.createElement("span");
  percent.className = "fdz-total-percent";
  percent.setAttribute("aria-hidden", "true");
  percent.textContent = "0%";
  box.appendChild(bar);
  box.appendChild(percent);
  element.insertBefore(box, element.firstChild);
  var batch = [];
  var shown = 0;
  var finished = true;
  function show(progress) {
    shown = progress;
    showProgress(bar, percent, progress);
    fill.style.width = Math.floor(progress) + "%";
  }
  function update() {
    var sent = 0;
    var total = 0;
    batch.forEach(function (file) {
      var weight = file.size || 1;
      var done = file.status !== window.Dropzone.QUEUED && file.status !== window.Dropzone.UPLOADING;
      sent += weight * (done ? 100 : (file.upload && file.upload.progress) || 0);
      total += weight;
    });
    if (total) show(Math.max(shown, sent / total));
  }
  dz.on("sending", function (file) {
    if (finished) {
      batch = [];
      finished = false;
      show(0);
    }
    dz.getQueuedFiles().concat(dz.getUploadingFiles(), [file]).forEach(function (each) {
      if (batch.indexOf(each) < 0) batch.push(each);
    });
    box.hidden = false;
  });
  ["uploadprogress", "success", "error", "canceled"].forEach(function (event) {
    dz.on(event, function () {
      if (!finished) update();
    });
  });
  dz.on("queuecomplete", function () {
    if (finished) return;
    finished = true;
    show(100);
  });
  dz.on("reset", function () {
    box.hidden = true;
    finished = true;
    batch = [];
    show(0);
  });
}

// js/features/redirect.js
// redirect_url: once every file of the zone is stored, the page goes there.

var redirect = {
  applies: function (ctx) {
    return Boolean(ctx.config.redirectUrl);
  },
  setup: function (ctx) {
    var dz = ctx.dz;
    dz.on("queuecomplete", function () {
      var files = dz.files;
      var allDone = files.length > 0 && files.every(function (file) {
        return file.status === window.Dropzone.SUCCESS;
      });
      if (allDone) goTo(ctx.config.redirectUrl);
    });
  },
};

function goTo(url) {
  var target = new URL(url, window.location.href);
  if (target.protocol === "http:" || target.protocol === "https:") {
    window.location.assign(target.href);
  } else {
    fail("refusing to redirect to " + target.protocol + " URL");
  }
}

// js/features/rules.js
// Signed rules expire (CHUNK_EXPIRES): while the page is open they are renewed at half their
// life, in every set of headers that carries them (Dropzone's, and what direct uploads send
// the app). Rules that expired (a computer asleep for longer) are not renewed: the server
// says to reload the page.

var rules = {
  applies: function (ctx) {
    return Boolean(ctx.config.rulesUrl);
  },
  prepare: function (ctx) {
    var sets = [ctx.options.headers, ctx.appHeaders].filter(function (headers) {
      return headers && headers[RULES_HEADER];
    });
    if (!sets.length) return;
    function schedule(seconds) {
      setTimeout(renew, Math.min(seconds * 500, 2147483647));
    }
    function renew() {
      var headers = {};
      headers[RULES_HEADER] = sets[0][RULES_HEADER];
      ctx.request(ctx.config.rulesUrl, { headers: headers }).then(function (answer) {
        if (unanswered(answer)) return setTimeout(renew, 60000); // offline: try again
        if (!answer.ok) return;
        sets.forEach(function (each) { each[RULES_HEADER] = answer.data.rules; });
        schedule(answer.data.expires);
      });
    }
    schedule(ctx.config.rulesExpires);
  },
};

// js/features/target.js
// Where the zone posts: the URL create() gave, not whatever the element says. The zone's
// signed rules and CSRF token are for the app that made the page: a zone posting to another
// origin sends neither (nor asks that origin's CORS preflight to allow them).

var target = {
  applies: function () { return true; },
  prepare: function (ctx) {
    var options = ctx.options;
    if (!ctx.config.inForm && ctx.config.url && !options.url) options.url = ctx.config.url;
    var url = options.url || ctx.element.getAttribute("action") || window.location.href;
    if (!options.headers || typeof url !== "string" || !foreign(url)) return;
    options.headers = Object.assign({}, options.headers);
    [RULES_HEADER, CSRF_HEADER].forEach(function (name) { delete options.headers[name]; });
  },
};

// js/features/upload-button.js
// UPLOAD_ON_CLICK (a zone of its own): files wait in the queue until the button is pressed,
// then the whole queue is sent, not just parallelUploads files.

var uploadButton = {
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

// js/core/zone.js
// One zone: its Dropzone, made from the zone's JSON config, with the features it has.
//
// A feature is an object of one shape (js/features/*.js):
//   applies(ctx)  whether the zone has the feature (from its config and options);
//   prepare(ctx)  optional: changes Dropzone's options (ctx.options) before the Dropzone is
//                 made; returning false leaves the zone unmade (the feature said why);
//   setup(ctx)    optional: wires the feature in Dropzone's `init` (ctx.dz, ctx.say).
// The zone's ctx: config, element, form (the <form> around the zone, if any), hooks (the
// app's custom_options and custom_init), options, request (core/request.js), state (the
// state of a file, core/state.js), and, once Dropzone's init runs, dz and say (the live
// region). Direct uploads add appHeaders: the headers they send the app's endpoints.

// In the order they prepare and set up: Dropzone calls listeners in the order they were
// added, so a feature reads what those before it did (the preview's message, the file's
// state); the app's own init comes last.
var FEATURES = [
  outcomes, accessibility, progress, notKept, redirect, uploadButton, inForm, target, personRemoval,
  resume, leaving, deletes, cancel, direct, rules, chunkAnswer, field, existing,
];

// The zone create() emitted carries data-flask-dropzone: an element of the page's
// content with the same id (say, in a sanitized comment) must not take the zone over.
// A zone written by hand, without the marker, is found by its id.
function findZone(id) {
  var marked = document.querySelectorAll("[data-flask-dropzone]");
  for (var i = 0; i < marked.length; i++) {
    if (marked[i].id === id) return marked[i];
  }
  return document.getElementById(id);
}

function setUp(config, hooks) {
  var element = findZone(config.id);
  if (!element) return fail("no element with id " + JSON.stringify(config.id));
  if (element.dropzone) element.dropzone.destroy(); // auto-discovered by Dropzone 5
  var ctx = {
    config: config,
    element: element,
    form: element.closest("form"),
    hooks: hooks,
    options: Object.assign({}, config.options, hooks.options || {}),
    request: requester(config),
    state: stateOf,
    dz: null,
    say: null,
    appHeaders: null,
  };
  var features = FEATURES.filter(function (feature) { return feature.applies(ctx); });
  for (var i = 0; i < features.length; i++) {
    if (features[i].prepare && features[i].prepare(ctx) === false) return;
  }
  var customInit = ctx.options.init;
  ctx.options.init = function () {
    ctx.dz = this;
    ctx.say = announcer(element);
    features.forEach(function (feature) {
      if (feature.setup) feature.setup(ctx);
    });
    if (hooks.init) hooks.init.call(this);
    if (typeof customInit === "function") customInit.call(this);
  };
  var dz = new window.Dropzone(element, ctx.options);
  fire(element, "dropzone:init", { dropzone: dz });
}

// js/main.js
// The entry: once the page is parsed, every zone a config block describes is set up, once.

var ns = (window.flaskDropzone = window.flaskDropzone || {});
if (!ns.loaded) { // the tag is emitted by every config() call: the zones are set up once
  ns.loaded = true;
  ns.hooks = ns.hooks || {};
  if (window.Dropzone) window.Dropzone.autoDiscover = false;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
}

function setUpAll() {
  if (!window.Dropzone) return fail("Dropzone.js is not loaded; add {{ dropzone.load_js() }}");
  window.Dropzone.autoDiscover = false;
  var blocks = document.querySelectorAll('script[type="application/json"][data-dropzone-config]');
  var configured = {};
  for (var i = 0; i < blocks.length; i++) {
    var config;
    try {
      config = JSON.parse(blocks[i].textContent);
    } catch (error) {
      fail("unreadable zone configuration: " + error);
      continue;
    }
    configured[config.id] = true;
    try {
      setUp(config, ns.hooks[config.id] || {});
    } catch (error) {
      fail("zone " + JSON.stringify(config.id) + ": " + error.message);
    }
  }
  // A zone create() made, that no config() sets up, would be an empty box that does nothing.
  var zones = document.querySelectorAll("[data-flask-dropzone]");
  for (var j = 0; j < zones.length; j++) {
    if (!Object.prototype.hasOwnProperty.call(configured, zones[j].id)) {
      fail("zone " + JSON.stringify(zones[j].id) + " is not set up; add {{ dropzone.config(id=" +
        JSON.stringify(zones[j].id) + ") }} to the page");
    }
  }
}
})();

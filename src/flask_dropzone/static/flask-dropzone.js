/* Flask-Dropzone: sets up every zone described by a
 * <script type="application/json" data-dropzone-config> block on the page.
 * Served as a static file so that pages need no inline script (strict CSP).
 */
(function () {
  "use strict";
  var RULES_HEADER = "X-Dropzone-Zone";
  var CSRF_HEADER = "X-CSRF-Token";
  var DELETE_HEADER = "X-Dropzone-Delete";
  var ns = (window.flaskDropzone = window.flaskDropzone || {});
  if (ns.loaded) return; // the tag is emitted by every config() call
  ns.loaded = true;
  ns.hooks = ns.hooks || {};

  function fail(message) {
    console.error("flask-dropzone: " + message);
  }

  function goTo(url) {
    var target = new URL(url, window.location.href);
    if (target.protocol === "http:" || target.protocol === "https:") {
      window.location.assign(target.href);
    } else {
      fail("refusing to redirect to " + target.protocol + " URL");
    }
  }

  function onRedirect(dz, url) {
    dz.on("queuecomplete", function () {
      var files = dz.files;
      var allDone = files.length > 0 && files.every(function (file) {
        return file.status === window.Dropzone.SUCCESS;
      });
      if (allDone) goTo(url);
    });
  }

  function onClickUpload(dz, button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (!dz.getQueuedFiles().length) return;
      // Keep processing until the whole queue is sent, not just parallelUploads files.
      dz.options.autoProcessQueue = true;
      dz.processQueue();
    });
    dz.on("queuecomplete", function () {
      dz.options.autoProcessQueue = false;
    });
  }

  // Several files in one request: when some are refused, the server answers with one
  // outcome per file (JSON, in the order sent); each preview shows its own.
  function onOutcomes(dz) {
    dz.on("errormultiple", function (files, response) {
      if (!response || !Array.isArray(response.files) || response.files.length !== files.length) return;
      files.forEach(function (file, index) {
        var outcome = response.files[index];
        var messages = file.previewElement
          ? file.previewElement.querySelectorAll("[data-dz-errormessage]")
          : [];
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

  function thumbnailError(dz, message, xhr) {
    return !xhr && message === dz.options.dictThumbnailError;
  }

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

  function previewParts(file, selector) {
    return file.previewElement ? file.previewElement.querySelectorAll(selector) : [];
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

  function filled(text, values) {
    return text.replace(/\{\{(\w+)\}\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

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

  // Each preview: a named progress bar with its percentage, a remove link that is a button
  // to the keyboard (Enter and Space), a thumbnail that says nothing the name does not.
  function accessiblePreviews(dz, say, texts) {
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
    // Dropzone rewords the link as the upload starts (cancel) and ends (remove): its name follows.
    function nameLinks(file) {
      var links = previewParts(file, "[data-dz-remove]");
      for (var i = 0; i < links.length; i++) links[i].setAttribute("aria-label", links[i].textContent + ": " + file.name);
    }
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
      if (!file.flaskDropzoneExisting) say(filled(texts.fileUploaded, { filename: file.name }));
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

  // The queue's total progress: the bytes of every file sent since the queue started,
  // weighed by size. (Dropzone's totaluploadprogress counts only the files still active, so
  // it drops back each time a file finishes before the others.)
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

  // In-form mode, a form that came back with errors: the files it carried were not kept,
  // and the zone says so, by name, until a file is added again. Elements of the page
  // marked data-dropzone-error-for="<zone id>" (the app's own error for the files) go too.
  function notKept(dz, element, config, say) {
    var notice = null;
    if (config.notKept && config.notKept.length) {
      notice = document.createElement("p");
      notice.className = "fdz-notice";
      notice.textContent = filled(config.texts.filesNotKept, { filenames: config.notKept.join(", ") });
      element.insertBefore(notice, element.firstChild);
      say(notice.textContent);
    }
    dz.on("addedfile", function () {
      if (notice) notice.remove();
      notice = null;
      var stale = document.querySelectorAll("[data-dropzone-error-for]");
      for (var i = 0; i < stale.length; i++) {
        if (stale[i].getAttribute("data-dropzone-error-for") === config.id) stale[i].hidden = true;
      }
    });
  }

  // The extension's endpoints take the zone's CSRF token and the session's cookie.
  function post(url, fields, config) {
    var headers = { "X-Requested-With": "XMLHttpRequest" };
    if (config.csrf) headers["X-CSRFToken"] = config.csrf.token;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: new URLSearchParams(fields),
    });
  }

  // Marks the file whose remove (or cancel) link a person clicked, before Dropzone's own
  // handler removes it: only such a removal deletes or cancels anything on the server.
  var REMOVED_BY_PERSON = "flaskDropzoneRemovedByPerson";
  function onPersonRemoving(dz, element) {
    element.addEventListener("click", function (event) {
      var link = event.target && event.target.closest ? event.target.closest("[data-dz-remove]") : null;
      if (!link) return;
      dz.files.forEach(function (file) {
        if (file.previewElement && file.previewElement.contains(link)) file[REMOVED_BY_PERSON] = true;
      });
    }, true);
  }

  // CHUNKING: a file removed by a person while its chunks are on their way ends its
  // partial upload on the server now, not at the sweep.
  function onCancel(dz, config) {
    dz.on("removedfile", function (file) {
      if (!file[REMOVED_BY_PERSON] || file.status !== window.Dropzone.CANCELED || !file.upload) return;
      post(config.cancelUrl, { dzuuid: file.upload.uuid }, config).then(function () {
        dz.element.dispatchEvent(new CustomEvent("dropzone:cancelled", { bubbles: true, detail: { file: file } }));
      });
    });
  }

  // DELETE_ON_REMOVE: a stored file's response carries a delete token (X-Dropzone-Delete,
  // one per stored file); a person's click on its remove link sends it to the extension's
  // delete endpoint. Removing files otherwise (removeAllFiles, destroy, maxfilesexceeded)
  // deletes nothing.
  function onDelete(dz, element, config) {
    dz.on("success", function (file) {
      var header = file.flaskDropzoneDeleteHeader || (file.xhr ? file.xhr.getResponseHeader(DELETE_HEADER) : null);
      if (!header) return;
      var entries;
      try {
        entries = JSON.parse(header);
      } catch (error) {
        return;
      }
      var taken = dz.files.map(function (other) { return other.flaskDropzoneDelete; });
      for (var i = 0; i < entries.length; i++) {
        if (entries[i].filename === file.name && taken.indexOf(entries[i].token) < 0) {
          file.flaskDropzoneDelete = entries[i].token;
          return;
        }
      }
    });
    dz.on("removedfile", function (file) {
      if (!file[REMOVED_BY_PERSON] || !file.flaskDropzoneDelete) return;
      post(config.deleteUrl, { token: file.flaskDropzoneDelete }, config).then(function (response) {
        if (!response.ok) {
          return response.text().then(function (message) { fail("could not delete " + file.name + ": " + message); });
        }
        element.dispatchEvent(new CustomEvent("dropzone:deleted", { bubbles: true, detail: { file: file } }));
      });
    });
  }

  // CHUNKING: Dropzone gives `success` the answer of the chunk request that ended last. With
  // parallel chunks that is not always the one that completed the file (the server completes
  // it when its last chunk arrives, and the answers may come back in another order): that one
  // carries X-Dropzone-Complete, and the file ends with its answer and its delete token, so
  // every `success` listener learns what was stored. Dropzone keeps each chunk's answer and
  // headers on file.upload.chunks once the chunk has succeeded.
  var COMPLETE_HEADER = "X-Dropzone-Complete";

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

  function completedByItsAnswer(dz) {
    var theirs = dz.options.chunksUploaded;
    dz.options.chunksUploaded = function (file, done) {
      theirs.call(this, file, function () {
        var completing = file.upload.chunks.filter(function (chunk) {
          return chunk && headerOf(chunk.responseHeaders, COMPLETE_HEADER) !== null;
        })[0];
        if (!completing) return done(); // none says so (chunks handled without save()): Dropzone's choice
        file.flaskDropzoneDeleteHeader = headerOf(completing.responseHeaders, DELETE_HEADER);
        succeed(dz, file, answerOf(completing));
      });
    };
  }

  // RESUME: a chunked upload is remembered in localStorage (by zone URL, id and rules, file
  // name, size, type, lastModified and chunk size) until it succeeds, is removed, or CHUNK_EXPIRES
  // passes. The same file added again asks the server which chunks it holds and sends
  // only the others, into the same upload, through Dropzone's public options: an async
  // `accept` looks the upload up, `transformFile` keeps only the missing chunks, and
  // `params` gives each its own index and offset in the whole file.
  var RESUME_PREFIX = "flask-dropzone:upload:";

  // A zone's uploads are remembered under its own key: its URL, its id and its rules' key,
  // so that a file started in one zone is never resumed into another.
  function resumeKey(dz, file) {
    var url = typeof dz.options.url === "string" ? new URL(dz.options.url, window.location.href).href : "";
    var zone = dz.options.flaskDropzoneZone || [];
    return RESUME_PREFIX + JSON.stringify(
      [url, zone[0], zone[1], file.name, file.size, file.type, file.lastModified, dz.options.chunkSize]
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

  function canResume(options, custom) {
    return !custom.transformFile && !custom.params && !options.resizeWidth && !options.resizeHeight;
  }

  function resumable(options, config) {
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
      var key = resumeKey(dz, file);
      var entry = remembered(key, config.chunkExpires);
      if (!entry) return finish();
      fetch(config.statusUrl + "?dzuuid=" + encodeURIComponent(entry.uuid), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest" },
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (status) {
          if (!status || status.size !== file.size || status.chunkSize !== dz.options.chunkSize) {
            forget(key); // expired, finished, refused or another file: it starts over
            return;
          }
          var held = {};
          status.held.forEach(function (index) { held[index] = true; });
          var missing = [];
          for (var index = 0; index < status.count; index++) if (!held[index]) missing.push(index);
          if (!missing.length) missing.push(status.count - 1); // every chunk there: hand it over again
          file.upload.uuid = entry.uuid;
          file.flaskDropzoneMissing = missing;
        })
        .catch(function () {
          /* the server could not say: upload from the start */
        })
        .then(finish);
    };
    options.transformFile = function (file, done) {
      var missing = file.flaskDropzoneMissing;
      // Dropzone decides whether to chunk from what this gives: the missing chunks of a
      // file are chunks even when they are fewer bytes than one.
      this.options.forceChunking = forceChunking || Boolean(missing);
      if (!missing) return done(file);
      var size = this.options.chunkSize;
      done(new Blob(missing.map(function (index) {
        return file.slice(index * size, Math.min((index + 1) * size, file.size));
      })));
    };
    options.params = function (files, xhr, chunk) {
      if (!chunk) return undefined;
      var file = chunk.file;
      var size = this.options.chunkSize;
      var index = file.flaskDropzoneMissing ? file.flaskDropzoneMissing[chunk.index] : chunk.index;
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

  // `upload` names the upload: the chunked upload's uuid, or a direct upload's token.
  function remember(dz, file, upload) {
    file.flaskDropzoneRemembered = true;
    try {
      window.localStorage.setItem(resumeKey(dz, file), JSON.stringify({ uuid: upload, time: Date.now() }));
    } catch (error) {
      /* storage full or off: this upload cannot be resumed */
    }
  }

  function onResume(dz) {
    dz.on("sending", function (file) {
      if (!file.upload || !file.upload.chunked || file.flaskDropzoneRemembered) return;
      // (sent again after a failure, a resumed file keeps its entry: it is the same upload)
      remember(dz, file, file.upload.uuid);
    });
    dz.on("success", function (file) {
      if (file.flaskDropzoneRemembered) forget(resumeKey(dz, file));
    });
    dz.on("removedfile", function (file) {
      if (file[REMOVED_BY_PERSON] && file.flaskDropzoneRemembered) forget(resumeKey(dz, file));
    });
  }

  // While a file is uploading, leaving the page asks first.
  function onLeaving(dz) {
    window.addEventListener("beforeunload", function (event) {
      if (dz.getUploadingFiles().length) {
        event.preventDefault();
        event.returnValue = "";
      }
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

  // existing=: files already stored, shown as uploaded, counted against maxFiles (they are
  // accepted files of the zone), each with its remove link (and delete token, if any).
  function showExisting(dz, entries) {
    var shown = [];
    entries.forEach(function (entry) {
      var file = {
        name: entry.filename || entry.name, // the person's name for it, when the page knows it
        size: entry.size,
        accepted: true,
        status: window.Dropzone.SUCCESS,
        flaskDropzoneDelete: entry.token,
        flaskDropzoneExisting: true,
      };
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

  // DropzoneField: a zone inside a form whose files upload as they are dropped, to be kept
  // pending by the server, and go with the form as references (hidden inputs named as the
  // field), never as bytes. A form shown again (with errors) shows them as uploaded.
  function fieldZone(dz, element, config, say) {
    var field = config.field;
    var form = element.closest("form");
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
    showExisting(dz, config.existing).forEach(function (file, index) {
      file.flaskDropzoneInput = input(config.existing[index].keep);
    });
    showExisting(dz, field.pending).forEach(function (file, index) {
      file.flaskDropzoneReference = field.pending[index].reference;
      file.flaskDropzoneInput = input(file.flaskDropzoneReference);
    });
    dz.on("success", function (file, answer) {
      var entry = answer && Array.isArray(answer.files) ? answer.files[0] : null;
      if (!entry) return;
      file.flaskDropzoneReference = entry.reference;
      file.flaskDropzoneInput = input(entry.reference);
      // In the zone's order, not the order uploads ended in: the form shown again, and the
      // files claimed, keep the order the person gave.
      dz.files.forEach(function (each) {
        if (each.flaskDropzoneInput) form.appendChild(each.flaskDropzoneInput);
      });
    });
    // Removed: its input goes; a pending file its person removed is discarded on the server
    // at once (a stored file is not: the view learns of it from the field's `removed`).
    dz.on("removedfile", function (file) {
      if (file.flaskDropzoneInput) file.flaskDropzoneInput.remove();
      if (file[REMOVED_BY_PERSON] && file.flaskDropzoneReference) {
        post(field.discardUrl, { reference: file.flaskDropzoneReference }, config);
      }
    });
    waitForFiles(dz, form, element, config, say);
  }

  // Submitted while files are on their way: the form goes once they arrived. Meanwhile it
  // says so on screen (and to screen readers), and its submit buttons cannot be pressed.
  // Once sent, it is not sent again until the page is shown anew.
  function waitForFiles(dz, form, element, config, say) {
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
      waiting.notice.textContent = config.texts.waiting;
      element.insertAdjacentElement("afterend", waiting.notice);
      say(config.texts.waiting);
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

  // In-form mode, one request: the files travel with the form's own fields in one
  // native submission, so the browser follows the response (redirect or re-rendered form).
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

  // In-form mode, files first (UPLOAD_ACTION names another URL than the form's, as in
  // Flask-Dropzone 2.0.0): submitting uploads the queued files to UPLOAD_ACTION, then,
  // if every file succeeded, submits the form natively to its own action. A failed
  // file keeps the page where it is, with the file's message shown.
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

  function sameUrl(a, b) {
    return new URL(a, window.location.href).href === new URL(b, window.location.href).href;
  }

  function onFormSubmit(dz, form, config) {
    if (config.uploadUrl && !sameUrl(config.uploadUrl, form.action)) {
      uploadFilesThenSubmit(dz, form, config);
    } else {
      sendFilesWithForm(dz, form, config);
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
  }

  // S3_DIRECT: the browser sends each file to the bucket itself, in parts PUT to URLs the
  // app presigned once it judged the file's name, size and type (each part's length signed
  // in; the first part is an object of its own, the others parts of an S3 multipart upload).
  // The app then judges the content and completes the upload under the file's name, or
  // refuses it: the app never gets the bytes.
  // All of it through Dropzone's public options: an async `accept` starts the upload,
  // `url` (a function of the chunk) gives each part its URL, `chunksUploaded` completes.
  var DIRECT = "flaskDropzoneDirect";

  function postJson(url, body, headers) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest" }, headers),
      body: JSON.stringify(body),
    });
  }

  // The app's headers (CSRF token, the zone's rules) go to the app's endpoints, never to the
  // bucket: S3 would refuse x- headers the URL did not sign, and they are not the bucket's.
  function appHeaders(options, config) {
    var headers = Object.assign({}, options.headers || {});
    if (config.csrf) headers["X-CSRFToken"] = config.csrf.token;
    return headers;
  }

  function refused(response) {
    return response.text().then(function (text) {
      return text || String(response.status);
    });
  }

  // A file refused once its bytes are in the bucket (its content is not what its name
  // says): it ends as any refused file does, with its message under its thumbnail.
  function refuseUploaded(dz, file, message) {
    file.status = window.Dropzone.ERROR;
    dz.emit("error", file, message);
    dz.emit("complete", file);
    if (dz.options.autoProcessQueue) dz.processQueue();
  }

  // A file whose upload the app completed ends as Dropzone ends any stored file, its `success`
  // given the answer that says what was stored ({"stored": [{"filename", "stored_name"}]}):
  // a direct upload's from `complete`, not the bucket's empty answer to the last part; a
  // chunked one's from the chunk request that completed it (completedByItsAnswer).
  function succeed(dz, file, answer) {
    file.status = window.Dropzone.SUCCESS;
    dz.emit("success", file, answer);
    dz.emit("complete", file);
    if (dz.options.autoProcessQueue) dz.processQueue();
  }

  // Presigned URLs expire: a file still on its way gets fresh ones before they do.
  function keepUrlsFresh(file, config, headers) {
    var upload = file[DIRECT];
    function refresh() {
      postJson(config.direct.urls, { upload: upload.upload }, headers)
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (fresh) {
          if (!fresh || upload.finished) return;
          upload.urls = fresh.urls;
          upload.timer = setTimeout(refresh, fresh.expires * 800);
        })
        .catch(function () {
          if (!upload.finished) upload.timer = setTimeout(refresh, 5000);
        });
    }
    upload.timer = setTimeout(refresh, upload.expires * 800);
  }

  function finish(file) {
    var upload = file[DIRECT];
    if (!upload) return;
    upload.finished = true;
    clearTimeout(upload.timer);
  }

  // Dropzone calls chunksUploaded on its options, not on itself: `zone.dz` is the Dropzone,
  // set as it starts (onDirect).
  function directUploads(options, config, resume) {
    var headers = appHeaders(options, config);
    var zone = { dz: null, headers: headers, resume: resume };
    var theirAccept = options.accept;
    options.method = "PUT";
    options.binaryBody = true;
    options.chunking = true;
    options.forceChunking = true; // every file is a multipart upload, a small one of one part
    options.defaultHeaders = false;
    options.headers = null;
    options.url = function (files, blocks) {
      var file = files[0];
      var index = file.flaskDropzoneMissing ? file.flaskDropzoneMissing[blocks[0].chunkIndex] : blocks[0].chunkIndex;
      return file[DIRECT].urls[index];
    };
    options.accept = function (file, done) {
      var dz = zone.dz;
      function accepted(upload) {
        file[DIRECT] = upload;
        keepUrlsFresh(file, config, headers);
        if (theirAccept) theirAccept.call(dz, file, done);
        else done();
      }
      function start() {
        postJson(config.direct.start, { name: file.name, size: file.size, type: file.type || "" }, headers)
          .then(function (response) {
            if (!response.ok) return refused(response).then(done);
            return response.json().then(function (upload) {
              if (zone.resume) remember(dz, file, upload.upload);
              accepted(upload);
            });
          })
          .catch(function () {
            done(dz.options.dictResponseError.replace("{{statusCode}}", "0"));
          });
      }
      var entry = zone.resume ? remembered(resumeKey(dz, file), config.chunkExpires) : null;
      if (!entry) return start();
      resumeDirect(dz, file, entry.uuid, config, headers).then(function (upload) {
        if (upload) return accepted(upload);
        forget(resumeKey(dz, file)); // finished, expired or another file: it starts over
        start();
      });
    };
    if (resume) {
      options.transformFile = function (file, done) {
        var missing = file.flaskDropzoneMissing;
        if (!missing) return done(file);
        var size = this.options.chunkSize;
        done(new Blob(missing.map(function (index) {
          return file.slice(index * size, Math.min((index + 1) * size, file.size));
        })));
      };
    }
    options.chunksUploaded = function (file) {
      var dz = zone.dz;
      postJson(config.direct.complete, { upload: file[DIRECT].upload }, headers)
        .then(function (response) {
          finish(file);
          if (!response.ok) return refused(response).then(function (message) { refuseUploaded(dz, file, message); });
          file.flaskDropzoneDeleteHeader = response.headers.get(DELETE_HEADER);
          return response.json().then(function (answer) { succeed(dz, file, answer); });
        })
        .catch(function () {
          finish(file);
          refuseUploaded(dz, file, dz.options.dictResponseError.replace("{{statusCode}}", "0"));
        });
    };
    return zone;
  }

  // RESUME, direct: the bucket says which parts it holds (ListParts, through the app); the
  // file sends the others, each to its own part's URL (transformFile keeps only them).
  function resumeDirect(dz, file, upload, config, headers) {
    var status;
    return fetch(config.direct.status + "?upload=" + encodeURIComponent(upload), {
      credentials: "same-origin",
      headers: Object.assign({ "X-Requested-With": "XMLHttpRequest" }, headers),
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (held) {
        status = held;
        if (!status || status.size !== file.size || status.partSize !== dz.options.chunkSize) return null;
        return postJson(config.direct.urls, { upload: upload }, headers).then(function (response) {
          return response.ok ? response.json() : null;
        });
      })
      .then(function (fresh) {
        if (!fresh) return null;
        var held = {};
        status.held.forEach(function (number) { held[number] = true; });
        var missing = [];
        for (var index = 0; index < status.parts; index++) if (!held[index + 1]) missing.push(index);
        if (!missing.length) missing.push(status.parts - 1); // every part there: send one again, then complete
        file.flaskDropzoneMissing = missing;
        file.flaskDropzoneRemembered = true;
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
  function onDirect(dz, config, zone) {
    zone.dz = dz;
    var headers = zone.headers;
    function abort(file) {
      var upload = file[DIRECT];
      if (!upload || upload.finished) return;
      finish(file);
      if (file.flaskDropzoneRemembered) forget(resumeKey(dz, file));
      postJson(config.direct.abort, { upload: upload.upload }, headers).then(function () {
        dz.element.dispatchEvent(new CustomEvent("dropzone:cancelled", { bubbles: true, detail: { file: file } }));
      });
    }
    dz.on("canceled", abort);
    dz.on("removedfile", abort);
    dz.on("success", function (file) {
      if (file.flaskDropzoneRemembered) forget(resumeKey(dz, file));
    });
    if (zone.resume) {
      // a file that was refused once its bytes were in the bucket starts over if added again
      dz.on("error", function (file) {
        if (file[DIRECT] && file[DIRECT].finished && file.flaskDropzoneRemembered) forget(resumeKey(dz, file));
      });
    }
    dz.on("error", function (file) {
      if (file.status !== window.Dropzone.CANCELED) finish(file);
    });
  }

  function foreign(url) {
    return new URL(url, window.location.href).origin !== window.location.origin;
  }

  // The zone's signed rules and CSRF token are for the app that made the page: a zone posting
  // to another origin sends neither (nor asks that origin's CORS preflight to allow them).
  function dropForeignHeaders(options, element) {
    var url = options.url || element.getAttribute("action") || window.location.href;
    if (!options.headers || typeof url !== "string" || !foreign(url)) return;
    options.headers = Object.assign({}, options.headers);
    [RULES_HEADER, CSRF_HEADER].forEach(function (name) { delete options.headers[name]; });
  }

  // Signed rules expire (CHUNK_EXPIRES): while the page is open they are renewed at half their
  // life, in every set of headers that carries them. Rules that expired (a computer asleep for
  // longer) are not renewed: the server says to reload the page.
  function renewRules(config, headerSets) {
    var sets = headerSets.filter(function (headers) { return headers && headers[RULES_HEADER]; });
    if (!config.rulesUrl || !sets.length) return;
    function schedule(seconds) {
      setTimeout(renew, Math.min(seconds * 500, 2147483647));
    }
    function renew() {
      var headers = { "X-Requested-With": "XMLHttpRequest" };
      headers[RULES_HEADER] = sets[0][RULES_HEADER];
      fetch(config.rulesUrl, { credentials: "same-origin", headers: headers })
        .then(function (response) {
          if (!response.ok) return null;
          return response.json().then(function (fresh) {
            sets.forEach(function (each) { each[RULES_HEADER] = fresh.rules; });
            schedule(fresh.expires);
          });
        })
        .catch(function () {
          setTimeout(renew, 60000); // offline: try again
        });
    }
    schedule(config.rulesExpires);
  }

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

  function setUp(config) {
    var element = findZone(config.id);
    if (!element) return fail("no element with id " + JSON.stringify(config.id));
    if (element.dropzone) element.dropzone.destroy(); // auto-discovered by Dropzone 5
    var hooks = ns.hooks[config.id] || {};
    var options = Object.assign({}, config.options, hooks.options || {});
    var form = null;
    if (config.inForm) {
      form = element.closest("form");
      if (!form) return fail("in-form zone " + JSON.stringify(config.id) + " is not inside a <form>");
      options.url = config.uploadUrl || form.action;
    } else if (config.url && !options.url) {
      options.url = config.url; // the URL create() gave, not whatever the element says
    }
    dropForeignHeaders(options, element);
    options.flaskDropzoneZone = [config.id, config.zoneKey];
    var direct = config.direct ? directUploads(options, config, config.resume && canResume(options, hooks.options || {})) : null;
    renewRules(config, [options.headers, direct && direct.headers]);
    var button = null;
    if (config.uploadOnClick && !config.inForm) {
      button = document.getElementById(config.uploadButton);
      if (!button) fail("no upload button with id " + JSON.stringify(config.uploadButton));
    }
    var resume = !config.direct && Boolean(config.statusUrl) && canResume(options, hooks.options || {});
    if (resume) resumable(options, config);
    var customInit = options.init;
    options.init = function () {
      readableErrors(this);
      oneOutcome(this);
      showSize(this);
      var say = announcer(element);
      accessiblePreviews(this, say, config.texts);
      onOutcomes(this);
      sayOutcomes(this, say);
      totalProgress(this, element, config.texts);
      notKept(this, element, config, say);
      if (config.redirectUrl) onRedirect(this, config.redirectUrl);
      if (button) onClickUpload(this, button);
      if (form) onFormSubmit(this, form, config);
      if (config.deleteUrl || config.cancelUrl || config.field) onPersonRemoving(this, element);
      if (resume) onResume(this);
      onLeaving(this);
      if (config.deleteUrl) onDelete(this, element, config);
      if (config.cancelUrl) onCancel(this, config);
      if (direct) onDirect(this, config, direct);
      else completedByItsAnswer(this);
      if (config.field) fieldZone(this, element, config, say);
      else if (config.existing && config.existing.length) showExisting(this, config.existing);
      if (hooks.init) hooks.init.call(this);
      if (typeof customInit === "function") customInit.call(this);
    };
    var dz = new window.Dropzone(element, options);
    element.dispatchEvent(new CustomEvent("dropzone:init", { bubbles: true, detail: { dropzone: dz } }));
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
        setUp(config);
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

  if (window.Dropzone) window.Dropzone.autoDiscover = false;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();

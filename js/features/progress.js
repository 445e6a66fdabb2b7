// The queue's total progress: the bytes of every file sent since the queue started,
// weighed by size. (Dropzone's totaluploadprogress counts only the files still active, so
// it drops back each time a file finishes before the others.)
import { progressBar, showProgress } from "../core/aria.js";

export var progress = {
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

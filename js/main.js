// The entry: once the page is parsed, every zone a config block describes is set up, once.
import { fail } from "./core/dom.js";
import { setUp } from "./core/zone.js";

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

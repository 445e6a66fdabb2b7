// Where the zone posts: the URL create() gave, not whatever the element says. The zone's
// signed rules and CSRF token are for the app that made the page: a zone posting to another
// origin sends neither (nor asks that origin's CORS preflight to allow them).
import { foreign } from "../core/dom.js";
import { CSRF_HEADER, RULES_HEADER } from "../core/request.js";

export var target = {
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

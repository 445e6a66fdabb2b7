// Signed rules expire (CHUNK_EXPIRES): while the page is open they are renewed at half their
// life, in every set of headers that carries them (Dropzone's, and what direct uploads send
// the app). Rules that expired (a computer asleep for longer) are not renewed: the server
// says to reload the page.
import { RULES_HEADER, unanswered } from "../core/request.js";

export var rules = {
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

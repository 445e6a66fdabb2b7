// The one way to the app's endpoints (delete, cancel, discard, resume status, direct uploads,
// rules): the session's cookie, X-Requested-With, the zone's CSRF token on every request, and
// one kind of answer.

export var RULES_HEADER = "X-Dropzone-Zone";
export var CSRF_HEADER = "X-CSRF-Token"; // the token in Dropzone's own headers (create(csrf=True))
export var DELETE_HEADER = "X-Dropzone-Delete";

// A zone's request(url, how): `how.query` (fields) goes in the URL, `how.form` (fields, urlencoded)
// or `how.json` (a value) is the body of a POST, `how.headers` are added. The promise never
// fails: it gives {ok, status, text, data, headers}, `data` the body read as JSON (null if it is
// not JSON), `status` 0 when no answer came (offline, the network refused it).
export function requester(config) {
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
export function unanswered(answer) {
  return !answer.status || (answer.ok && answer.data === null);
}

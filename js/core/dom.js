// Small helpers on the page, for every module.

export function fail(message) {
  console.error("flask-dropzone: " + message);
}

export function filled(text, values) {
  return text.replace(/\{\{(\w+)\}\}/g, function (whole, name) {
    return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
  });
}

export function safeUrl(url) {
  try {
    var target = new URL(url, window.location.href);
    return target.protocol === "http:" || target.protocol === "https:" ? target.href : null;
  } catch (error) {
    return null;
  }
}

export function foreign(url) {
  return new URL(url, window.location.href).origin !== window.location.origin;
}

export function sameUrl(a, b) {
  return new URL(a, window.location.href).href === new URL(b, window.location.href).href;
}

// The zone's own events (dropzone:init, dropzone:deleted, dropzone:cancelled) bubble from its element.
export function fire(element, name, detail) {
  element.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
}

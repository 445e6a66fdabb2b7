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
export function announcer(element) {
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

export function progressBar(node, label) {
  node.setAttribute("role", "progressbar");
  node.setAttribute("aria-label", label);
  node.setAttribute("aria-valuemin", "0");
  node.setAttribute("aria-valuemax", "100");
  node.setAttribute("aria-valuenow", "0");
}

export function showProgress(bar, percent, progress) {
  var value = String(Math.floor(progress));
  bar.setAttribute("aria-valuenow", value);
  if (percent) percent.textContent = value + "%";
}

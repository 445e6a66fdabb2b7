"""Pinned Dropzone.js release; written by scripts/vendor_dropzone.py, do not edit."""

VERSION = "6.3.5"
# Subresource Integrity of the dist files, identical on the npm registry and its CDNs.
INTEGRITY = {
    "basic.css": "sha384-kA8DRhXN2oyZxAj1nKZbBLOul6AIFemWNBTZ/QqND+FLGvyUGAKQ5ufB7z4RyeXo",
    "dropzone-min.js": "sha384-wHTterC8uaPhGVKg8kmSlqcmI8CCFkOI+Mn51O3udobTBX0vQLs6a18vJqh0AnW3",
    "dropzone.css": "sha384-asD8pW//1IYJd67ZZn/Eyo31U/YtixrhsNyn90jnZTEIgTpYfE2mkwGYVWHwg2vD",
}

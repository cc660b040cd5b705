// Loaded first by every page of the engine suite (a classic script, before the package).
// 1. Records uncaught errors and unhandled rejections in `window.rrUncaught` and beacons each to
//    the origin (POST /__uncaught), so one thrown during teardown is still seen: WebKit under
//    WebDriver does not print the page's console anywhere a test could read it.
// 2. With ?storage=…, breaks localStorage the way a WebView does before anything else runs:
//    null (Android WebView, DOM storage off), getter (the property getter throws: sandboxed or
//    cookie-blocked frames), throws (every method throws), quota (writes throw QuotaExceededError).
// 3. `rrEval(code)` evaluates `code` in the page's own realm: Firefox runs WebDriver scripts in
//    a sandbox, and objects made there are not `instanceof Object` in the page.
// 4. Watches the page's own event requests (not the hand-offs made once it is hidden or left):
//    the search phrase of each that failed without an answer while the page was going away, or
//    in the 2 s before (the tracker leaves such an event to its request: the README's one
//    chosen loss), goes to localStorage "rrLeftToRequest", for the unload matrix.
window.rrEval = function (code) {
  return (0, eval)(code);
};
(function () {
  window.rrUncaught = [];
  function report(kind, value) {
    var text = kind + ": " + String((value && (value.stack || value.message)) || value);
    window.rrUncaught.push(text);
    try {
      navigator.sendBeacon("/__uncaught", JSON.stringify({ page: location.href, text: text }));
    } catch (e) {}
  }
  addEventListener("error", function (e) { report("error", e.error || e.message); });
  addEventListener("unhandledrejection", function (e) { report("unhandledrejection", e.reason); });

  var mode = new URLSearchParams(location.search).get("storage");
  var denied = function () { throw new DOMException("The operation is insecure.", "SecurityError"); };
  if (mode === "null") {
    Object.defineProperty(window, "localStorage", { configurable: true, get: function () { return null; } });
  } else if (mode === "getter") {
    Object.defineProperty(window, "localStorage", { configurable: true, get: denied });
  } else if (mode === "throws") {
    ["getItem", "setItem", "removeItem", "key", "clear"].forEach(function (name) { Storage.prototype[name] = denied; });
    Object.defineProperty(Storage.prototype, "length", { configurable: true, get: denied });
  } else if (mode === "quota") {
    Storage.prototype.setItem = function () { throw new DOMException("The quota has been exceeded.", "QuotaExceededError"); };
  }
})();
(function () {
  var fetch0 = window.fetch, storage = null;
  try {
    storage = window.localStorage; // throws in the ?storage=getter pages
  } catch (e) {}
  if (typeof fetch0 !== "function" || !storage) return;
  var get = Storage.prototype.getItem, set = Storage.prototype.setItem;
  var leftAt = null, failed = [];
  function record(phrase) {
    try {
      var list = JSON.parse(get.call(storage, "rrLeftToRequest") || "[]");
      list.push(phrase);
      set.call(storage, "rrLeftToRequest", JSON.stringify(list));
    } catch (e) {}
  }
  function leaving() {
    if (leftAt !== null) return;
    leftAt = Date.now();
    failed.forEach(function (f) { if (leftAt - f.at <= 2000) record(f.phrase); });
  }
  addEventListener("beforeunload", leaving);
  addEventListener("pagehide", leaving);
  window.fetch = function (url, init) {
    var result = fetch0.apply(this, arguments);
    var phrase = /[?&]searchPhrase=([^&]*)/.exec(String(url));
    // Not the hand-offs: they are made once the page is hidden or going away (this script's
    // listeners run before the tracker's), while event requests all travel with keepalive.
    if (phrase && leftAt === null && document.visibilityState !== "hidden") {
      result.then(null, function () {
        var p = decodeURIComponent(phrase[1]);
        if (leftAt !== null) record(p);
        else failed.push({ phrase: p, at: Date.now() });
      });
    }
    return result;
  };
})();

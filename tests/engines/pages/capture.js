// Loaded first by every page of the engine suite (a classic script, before the package).
// 1. Records uncaught errors and unhandled rejections in `window.rrUncaught` and beacons each to
//    the origin (POST /__uncaught), so one thrown during teardown is still seen: WebKit under
//    WebDriver does not print the page's console anywhere a test could read it.
// 2. With ?storage=…, breaks localStorage the way a WebView does before anything else runs:
//    null (Android WebView, DOM storage off), getter (the property getter throws: sandboxed or
//    cookie-blocked frames), throws (every method throws), quota (writes throw QuotaExceededError).
// 3. `rrEval(code)` evaluates `code` in the page's own realm: Firefox runs WebDriver scripts in
//    a sandbox, and objects made there are not `instanceof Object` in the page.
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

/* retailrocket-tracker: classic-script drop-in for Retail Rocket's tracking.js.
 *
 * A store keeps its snippet (var rrPartnerId, var rrApi = {}, rrApiOnReady, the async loader) and
 * changes only the loader's src to this file. It loads the package from next to itself, makes one
 * Tracker from window.rrPartnerId (plus window.rrTrackerConfig, if any), puts tracking.js's rrApi
 * methods on window.rrApi in place of the snippet's stubs, then runs the rrApiOnReady callbacks in
 * order and any pushed later at once. It never throws into the page: without WebAssembly, or
 * when anything fails, the stubs stay and tracking is off.
 *
 * Plain ES2017 and import(), no module syntax: it runs as a classic script. */
(function () {
  "use strict";
  var w = window;
  var d = document;
  // Kept while this runs: document.currentScript is null once the script has finished.
  var self = d.currentScript;

  // Names only the store's own code may call; there is no public wire format for them.
  var IGNORED = ["setCustomer", "setProfile", "mailRequest", "mailRequestFormView"];
  var SESSION_WAIT_MS = 2000; // longest wait for the first visit's session before rrApiOnReady runs

  function warn(what, e) {
    try {
      console.warn("retailrocket-tracker (rrapi.js): " + what + (e ? ": " + ((e && e.message) || e) : ""));
    } catch (_) {
      /* no console */
    }
  }

  // The store's rrApi object stays the same object (its code may hold it); only methods change.
  var api = w.rrApi && typeof w.rrApi == "object" ? w.rrApi : {};
  if (api.__retailrocketTracker) return; // loaded twice
  api.__retailrocketTracker = true;
  try {
    w.rrApi = api;
  } catch (_) {
    /* a read-only global: the object is still the store's */
  }

  var noop = function () {};
  // Until the tracker is ready, every name answers without throwing (the snippet stubs a few only).
  var NAMES = [
    "view", "groupView", "addToBasket", "removeFromBasket", "categoryView", "search", "order", "setEmail",
    "recomMouseDown", "recomAddToCart", "recomAddToBasket", "recomTrack", "pageView", "welcomeSequence",
    "subscribeOnItemBackInStock", "subscribeOnPriceDrop",
  ];
  NAMES.concat(IGNORED).forEach(function (name) {
    if (typeof api[name] != "function") api[name] = noop;
  });

  function install(rr) {
    function call(method, args) {
      try {
        return rr[method].apply(rr, args);
      } catch (e) {
        warn(method + "() failed", e);
        return false;
      }
    }
    var methods = {
      view: function (id, options) { return call("view", [id, options]); },
      groupView: function (ids, options) { return call("groupView", [ids, options]); },
      addToBasket: function (id, options) { return call("addToBasket", [id, options]); },
      removeFromBasket: function (id) { return call("removeFromBasket", [id]); },
      categoryView: function (idOrPath) { return call("categoryView", [idOrPath]); },
      search: function (phrase) { return call("search", [phrase]); },
      order: function (order) { return call("order", [order]); },
      setEmail: function (email, data) { return call("setEmail", [email, data]); },
      recomMouseDown: function (id, options) { return call("recomMouseDown", [id, options]); },
      recomAddToCart: function (id, options) { return call("recomAddToCart", [id, options]); },
      // apiInit.js names it too; both send recomAddToBasket on the wire.
      recomAddToBasket: function (id, options) { return call("recomAddToCart", [id, options]); },
      recomTrack: function (methodName, to, ids) { return call("recomTrack", [methodName, to, ids]); },
      pageView: function () { return call("pageView", []); },
      welcomeSequence: function (email) { return call("welcomeSequence", [email]); },
      subscribeOnItemBackInStock: function (email, id, options) {
        return call("subscribeOnItemBackInStock", [email, id, options]);
      },
      subscribeOnPriceDrop: function (email, items) { return call("subscribeOnPriceDrop", [email, items]); },
      // The Retail Rocket session (null until the first visit's handshake answered).
      getSessionId: function () {
        try {
          return rr.session;
        } catch (_) {
          return null;
        }
      },
    };
    for (var name in methods) api[name] = methods[name];
    api.tracker = rr;
    // Stores read the session through tracking.js's namespace: retailrocket.api.getSessionId().
    try {
      var ns = (w.retailrocket = w.retailrocket || {});
      ns.api = ns.api || {};
      if (typeof ns.api.getSessionId != "function") ns.api.getSessionId = methods.getSessionId;
    } catch (_) {
      /* a page that froze it: rrApi.getSessionId() still works */
    }
  }

  // Runs the queued callbacks in order, then makes push() run each new one at once.
  function release() {
    var queue = w.rrApiOnReady;
    if (!queue || typeof queue.push != "function" || typeof queue.length != "number") {
      queue = [];
      try {
        w.rrApiOnReady = queue;
      } catch (_) {
        /* read-only: later pushes cannot be seen */
      }
    }
    function run(fn) {
      if (typeof fn != "function") return;
      try {
        fn();
      } catch (e) {
        try {
          console.error("retailrocket-tracker (rrapi.js): an rrApiOnReady callback threw:", e);
        } catch (_) {
          /* no console */
        }
      }
    }
    // From here on a push runs its callback at once, also one pushed by a callback below.
    var waiting = Array.prototype.slice.call(queue);
    queue.length = 0;
    queue.push = function () {
      for (var i = 0; i < arguments.length; i++) run(arguments[i]);
      return 0;
    };
    waiting.forEach(run);
  }

  // The first visit has no session until the handshake answers; tracking.js runs rrApiOnReady
  // after it, so callbacks that read getSessionId() find one. Never wait long: events queue anyway.
  function sessionKnown(rr) {
    return new Promise(function (done) {
      var until = Date.now() + SESSION_WAIT_MS;
      (function check() {
        var known;
        try {
          known = !!rr.session;
        } catch (_) {
          known = true;
        }
        if (known || Date.now() >= until) done();
        else setTimeout(check, 25);
      })();
    });
  }

  function start() {
    if (typeof WebAssembly != "object") return Promise.resolve(warn("tracking is off: WebAssembly is not available"));
    var partnerId = w.rrPartnerId;
    var extra = w.rrTrackerConfig && typeof w.rrTrackerConfig == "object" ? w.rrTrackerConfig : {};
    if (!partnerId && !extra.partnerId) return Promise.resolve(warn("tracking is off: window.rrPartnerId is not set"));
    var src = self && self.src;
    if (!src) {
      var tag = d.getElementById("rrApi-jssdk");
      src = tag && tag.src;
    }
    if (!src) return Promise.resolve(warn("tracking is off: cannot tell where rrapi.js was loaded from"));
    return import(new URL("./index.js", src).href).then(function (mod) {
      var config = {};
      if (partnerId) config.partnerId = partnerId;
      Object.keys(extra).forEach(function (key) { config[key] = extra[key]; });
      var loading = mod.default();
      // Made while the module loads: calls made meanwhile are kept (up to 100) and replayed.
      var rr = new mod.Tracker(config);
      install(rr);
      return loading.then(function (ok) {
        // Not loaded, or a config the module refused: index.js said why.
        if (!ok || !rr.sessionExternalId) return;
        return sessionKnown(rr).then(release);
      });
    });
  }

  try {
    start().catch(function (e) {
      warn("tracking is off", e);
    });
  } catch (e) {
    warn("tracking is off", e);
  }
})();

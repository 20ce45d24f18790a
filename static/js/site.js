/* Progressive enhancement for small and wide screens; every page works without it.
 *
 * - details[data-open-when-wide]: a disclosure collapsed on phones (the goal page's filters)
 *   is opened on wide screens, where there is room beside the results.
 * - [data-scroll-into-view-on-phone]: a page opened from a shared link with results (the
 *   builder with ?goals=) scrolls to them on a phone, where they start below the form.
 */
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 60rem)");

  function enhance() {
    if (wide.matches) {
      document.querySelectorAll("details[data-open-when-wide]").forEach(function (details) {
        details.open = true;
      });
      return;
    }
    var results = document.querySelector("[data-scroll-into-view-on-phone]");
    if (results && !window.location.hash) {
      results.scrollIntoView({ block: "start" });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();

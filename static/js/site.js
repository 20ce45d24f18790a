/* Progressive enhancement for small and wide screens; every page works without it.
 *
 * - details[data-open-when-wide]: a disclosure collapsed on phones (the goal page's filters)
 *   is opened on wide screens, where there is room beside the results.
 * - [data-scroll-into-view-on-phone]: a page opened from a shared link with results (the
 *   builder with ?goals=) scrolls to them on a phone, where they start below the form.
 * - [data-js-text]: words true only with JavaScript ("Results update as you type."), written
 *   into the element here, so a visitor without JavaScript is never told them.
 * - htmx GET requests leave out empty fields and repeated pairs, so the address bar and
 *   shared links read /?goals=liver-health rather than /?goals=liver-health&min_tier=&budget=.
 * - The builder's goal picker may list a goal twice (most researched, in its category, in a
 *   search's matches): every checkbox of one goal shows one state, also those fetched later.
 * - htmx requests that post (the "Report an error" form) send the CSRF token from Django's
 *   cookie, so no page has to carry it and public pages can be shared by any HTTP cache.
 * - [data-not-a-filter]: a field inside the builder's form whose change is not a new choice
 *   (the goal search box) does not ask for new results.
 * - A goal category's button (the way to open it without JavaScript: it sends the builder's
 *   form) fetches the category's goals in place instead, should it still be there (the first
 *   fetch failed, or is still on its way): sent with the form, htmx would only refresh the
 *   results.
 */
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 60rem)");

  function enhance() {
    document.querySelectorAll("[data-js-text]").forEach(function (element) {
      element.textContent = element.getAttribute("data-js-text");
    });
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

  function cookie(name) {
    var found = document.cookie.split("; ").find(function (pair) {
      return pair.indexOf(name + "=") === 0;
    });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") {
      var token = cookie("csrftoken");
      if (token) {
        event.detail.headers["X-CSRFToken"] = token;
      }
      return;
    }
    var formData = event.detail.formData;
    if (!formData) {
      return;
    }
    var entries = Array.from(formData.entries());
    entries.forEach(function (entry) {
      formData.delete(entry[0]);
    });
    var seen = {};
    entries.forEach(function (entry) {
      var pair = entry[0] + "=" + entry[1];
      if (entry[1] !== "" && !seen[pair]) {
        seen[pair] = true;
        formData.append(entry[0], entry[1]);
      }
    });
  });

  function sameGoal(input) {
    return document.querySelectorAll(
      '.goal-chip__input[value="' + CSS.escape(input.value) + '"]'
    );
  }

  // Capture phase: the copies agree before the form (htmx) reads its fields.
  document.addEventListener(
    "change",
    function (event) {
      var field = event.target;
      if (field.matches && field.matches("[data-not-a-filter]")) {
        event.stopPropagation();
        return;
      }
      if (field.matches && field.matches(".goal-chip__input")) {
        sameGoal(field).forEach(function (copy) {
          copy.checked = field.checked;
        });
      }
    },
    true
  );

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".goal-category__load button");
    if (!button || !window.htmx) {
      return;
    }
    event.preventDefault();
    var load = button.closest(".goal-category__load");
    window.htmx.ajax("GET", load.getAttribute("hx-get"), { target: load, swap: "outerHTML" });
  });

  document.addEventListener("htmx:load", function (event) {
    event.detail.elt.querySelectorAll(".goal-chip__input").forEach(function (input) {
      if (!input.checked) {
        input.checked = Array.from(sameGoal(input)).some(function (copy) {
          return copy.checked;
        });
      }
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();

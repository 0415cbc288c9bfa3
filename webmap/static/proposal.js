/* The permalink page's "support" button: one support per browser, counted by the API. */
(function () {
  "use strict";
  var button = document.getElementById("support");
  if (!button || !window.fetch) { return; }
  var message = document.getElementById("support-message");
  var count = document.getElementById("support-count");
  button.addEventListener("click", function () {
    button.disabled = true;
    fetch(button.dataset.url, {method: "POST", credentials: "same-origin",
                               headers: {"Content-Type": "application/json", Accept: "application/json"}, body: "{}"})
      .then(function (response) { return response.json().then(function (body) { return {ok: response.ok, body: body}; }); })
      .then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          message.textContent = result.body.error ? result.body.error.message : "";
          return;
        }
        count.textContent = String(result.body.support_count);
        message.textContent = result.body.message;
        button.textContent = button.dataset.done;
        button.setAttribute("aria-pressed", "true");
      })
      .catch(function () { button.disabled = false; });
  });
})();

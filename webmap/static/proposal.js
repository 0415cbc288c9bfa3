/* The permalink page's "support" button: one support per browser, counted by the API. */
import {requestJSON} from "./js/http.js";
import {t} from "./js/i18n.js";
import "./js/offline.js";  // sends proposals kept offline from this page too
import {markSupported} from "./js/supports.js";

const button = document.getElementById("support");
const message = document.getElementById("support-message");
const count = document.getElementById("support-count");

if (button) {
  markSupported(button, button.dataset.publicId, t("supported"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    let reply;
    try {
      reply = await requestJSON(button.dataset.url, {method: "POST", body: {}});
    } catch (error) {
      button.disabled = false;
      message.textContent = error.message;
      return;
    }
    count.textContent = String(reply.support_count);
    message.textContent = reply.message;
    button.textContent = t("supported");
    button.setAttribute("aria-pressed", "true");
  });
}

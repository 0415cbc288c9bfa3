/* Duplicates by meaning: while a resident writes, proposals of the same category within 500 m whose
 * words are like theirs (GET /api/proposals/similar) are offered as "support this instead".
 * map.js calls setupSimilar(support) once and the returned refresh() whenever the pin moves; the
 * title, description and category fields are watched here. */
import {requestJSON} from "./http.js";
import {t} from "./i18n.js";
import {config} from "./config.js";

const WAIT_MS = 500;  // after the last keystroke
const TEXT_MAX = 500;  // what the server compares of a draft
const DESCRIPTION_SHOWN = 160;

function $(id) { return document.getElementById(id); }

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function meta(props, supportCount) {
  return (config.categories[props.category] || props.category) + " · " +
    t("distance", {distance: Math.round(props.distance_m)}) + " · " + t("supportCount", {count: supportCount});
}

function render(section, features, support) {
  const list = $("similar-list");
  list.textContent = "";
  section.hidden = !features.length;
  $("similar-intro").textContent = features.length ? section.dataset.intro : "";
  for (const feature of features) {
    const props = feature.properties;
    const item = el("li", "nearby-item");
    const title = el("a", "nearby-title", props.title);
    title.href = config.urls.proposal.replace("__id__", encodeURIComponent(props.public_id));
    item.appendChild(title);
    const line = el("span", "nearby-meta", meta(props, props.support_count));
    item.appendChild(line);
    const description = props.description.length > DESCRIPTION_SHOWN
      ? props.description.slice(0, DESCRIPTION_SHOWN - 1) + "…" : props.description;
    item.appendChild(el("p", "nearby-description", description));
    const button = el("button", "button secondary", t("supportInstead"));
    button.type = "button";
    button.addEventListener("click", () => {
      support(props.public_id, button, (total) => { line.textContent = meta(props, total); });
    });
    item.appendChild(button);
    list.appendChild(item);
  }
}

/** Watch the form; return refresh(), to be called when the pin moves. */
export function setupSimilar(support) {
  const section = $("similar");
  if (!section) { return () => {}; }
  let timer = null, asked = "";

  async function load() {
    const lon = $("lon").value, lat = $("lat").value, category = $("category").value;
    const text = ($("title").value + " " + $("description").value).trim().slice(0, TEXT_MAX);
    if (!lon || !lat || !category || text.length < 3) {
      asked = "";
      render(section, [], support);
      return;
    }
    const query = new URLSearchParams({lon, lat, category, text}).toString();
    if (query === asked) { return; }
    asked = query;
    let features = [];
    try {
      features = (await requestJSON(section.dataset.url + "?" + query)).features;
    } catch (error) {
      features = [];  // a suggestion is a help, not a step: the form works without it
    }
    if (query === asked) { render(section, features, support); }  // else a newer question is on its way
  }

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(load, WAIT_MS);
  }

  $("title").addEventListener("input", refresh);
  $("description").addEventListener("input", refresh);
  $("category").addEventListener("change", refresh);
  $("proposal-form").addEventListener("reset", refresh);
  return refresh;
}

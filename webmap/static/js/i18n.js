/* Translated strings: the page embeds them in its language, as the "text" object of its #dk-config
 * block (see config.js), with gettext's own placeholders, "%(name)s". Nothing is translated here. */
import {config} from "./config.js";

const texts = config.text || {};

/** Return the page's text for `key` (the key itself if the page has none), placeholders filled from `vars`. */
export function t(key, vars = {}) {
  let text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
  for (const [name, value] of Object.entries(vars)) {
    text = text.split(`%(${name})s`).join(String(value));
  }
  return text;
}

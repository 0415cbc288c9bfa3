/* The page's data for our modules: the JSON in <script type="application/json" id="dk-config">,
 * written by the page's template (URLs, labels, and under "text" the strings i18n.js hands out,
 * already in the page's language). Read once, when the first module imports it; a page without
 * the block gets {}. Modules run after the document is parsed, so the block is always there. */
const block = document.getElementById("dk-config");

export const config = Object.freeze(block ? JSON.parse(block.textContent) : {});

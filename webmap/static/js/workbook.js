/* The resident form pre-set by a paper workbook's QR code (config.workbook, from webmap/workbook_link.py):
 * the pin starts inside the page's development area, and the proposal is sent with the channel
 * "workbook" and the round. Without such a link both functions do nothing. */
import {config} from "./config.js";

const preset = config.workbook || null;

/** The fields the proposal carries besides what the resident typed: {channel, round} or nothing. */
export function presetFields() {
  if (!preset || !preset.channel) { return {}; }
  return preset.round ? {channel: preset.channel, round: preset.round} : {channel: preset.channel};
}

/** Place the pin inside the area the link names (the resident can drag it within the area). */
export function placePresetPin(map, placePin) {
  if (!preset || !preset.area) { return; }
  const latlng = L.latLng(preset.area.lat, preset.area.lon);
  map.setView(latlng, Math.max(map.getZoom(), 16), {animate: false});
  placePin(latlng, preset.area.name);
}

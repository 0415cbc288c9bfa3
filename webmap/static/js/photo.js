/* The proposal form's optional photo: sent as multipart/form-data when one is chosen, JSON otherwise.
 *
 * postProposal(url, data) resolves to the server's reply like requestJSON and rejects with a
 * RequestError carrying the server's own message (a photo too large, not an image, ...). A photo
 * over the limit the page states (data-max-bytes on #photo) is refused here before anything is sent.
 * After a reply for a proposal with a photo, the confirmation says the photo awaits a moderator. */

import {RequestError, requestForm, requestJSON} from "./http.js";

function photoInput() {
  return document.getElementById("photo");
}

function chosenPhoto() {
  const input = photoInput();
  return input && input.files && input.files.length ? input.files[0] : null;
}

function notePending(input) {
  const summary = document.getElementById("confirmation-summary");
  if (!summary) { return; }
  let note = document.getElementById("confirmation-photo");
  if (!note) {
    note = document.createElement("p");
    note.id = "confirmation-photo";
    summary.after(note);
  }
  note.textContent = input.dataset.pending;
}

function postForm(url, data, photo) {
  const form = new FormData();
  for (const [name, value] of Object.entries(data)) { form.append(name, String(value)); }
  form.append("photo", photo, photo.name || "photo");
  return requestForm(url, form);
}

/** Whether the resident chose a photo (then the proposal is sent as multipart, and not kept offline). */
export function photoChosen() {
  return chosenPhoto() !== null;
}

export async function postProposal(url, data) {
  const earlier = document.getElementById("confirmation-photo");
  if (earlier) { earlier.remove(); }
  const photo = chosenPhoto();
  if (!photo) { return requestJSON(url, {method: "POST", body: data}); }
  const input = photoInput();
  if (photo.size > Number(input.dataset.maxBytes)) {
    throw new RequestError(input.dataset.tooLarge, {status: 413, code: "photo_too_large", field: "photo"});
  }
  const reply = await postForm(url, data, photo);
  if (reply.properties && reply.properties.photo) { notePending(input); }
  return reply;
}

/* One way to talk JSON to our server.
 *
 * requestJSON(url, {method, body, signal, headers}) sends `body` (if any) as JSON, with any extra `headers`,
 * and resolves to the parsed reply;
 * an AbortController's `signal` cancels it (the rejection's cause is then the AbortError).
 * Any failure rejects with a RequestError: for an HTTP error its message is the server's own
 * {"error": {"message"}} text, meant to be shown as it is (the server words it for residents, in
 * their language), with the error's `code` and `field`; when the server said nothing usable (no
 * connection, a reply that is not our JSON) the message is "" and the caller shows its own text.
 *
 * No CSRF token is sent, as before: the JSON endpoints our pages write to (/api/...) are exempt
 * from the form CSRF check, because a cross-site page cannot send application/json without a CORS
 * preflight, which the server never grants. Cookies go along (same origin only).
 * requestForm sends multipart/form-data (a proposal with a photo), which a cross-site page could send:
 * the server refuses it when the browser marks it as from another site (Sec-Fetch-Site, Origin). */

export class RequestError extends Error {
  constructor(message, {status = 0, code = null, field = null, cause = undefined} = {}) {
    super(message, cause === undefined ? undefined : {cause});
    this.name = "RequestError";
    this.status = status;  // 0: no reply
    this.code = code;
    this.field = field;
  }
}

export async function requestJSON(url, {method = "GET", body = undefined, signal = undefined, headers: extra = {}} = {}) {
  const headers = {Accept: "application/json", ...extra};
  if (body !== undefined) { headers["Content-Type"] = "application/json"; }
  return send(url, {method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body)});
}

/** Send a FormData body (multipart/form-data, the browser sets its boundary); the reply as requestJSON's. */
export async function requestForm(url, form, {method = "POST", signal = undefined} = {}) {
  return send(url, {method, headers: {Accept: "application/json"}, signal, body: form});
}

async function send(url, {method, headers, signal, body}) {
  let response;
  try {
    response = await fetch(url, {method, headers, credentials: "same-origin", signal, body});
  } catch (error) {
    throw new RequestError("", {cause: error});
  }
  let reply = null;
  try {
    reply = await response.json();
  } catch (error) {
    throw new RequestError("", {status: response.status, cause: error});
  }
  if (!response.ok) {
    const problem = (reply && reply.error) || {};
    throw new RequestError(typeof problem.message === "string" ? problem.message : "",
                           {status: response.status, code: problem.code || null, field: problem.field || null});
  }
  return reply;
}

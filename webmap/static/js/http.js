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
 * preflight, which the server never grants. Cookies go along (same origin only). */

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
  let response;
  try {
    response = await fetch(url, {method, headers, credentials: "same-origin", signal,
                                 body: body === undefined ? undefined : JSON.stringify(body)});
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

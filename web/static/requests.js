// What both pages share about talking to the server: JSON requests whose failures read as sentences. A server
// that has gone away is reported through the page's own serverGone(gone), not as the browser's raw error.
(() => {
"use strict";

async function fetchJson(path, options, serverGone) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    serverGone(true);
    throw new Error("the server is not answering");
  }
  serverGone(false);
  let reply;
  try {
    reply = await response.json();
  } catch {
    throw new Error(`the server sent an unreadable answer (HTTP ${response.status})`);
  }
  if (!response.ok) throw Object.assign(new Error(reply.error || `HTTP ${response.status}`), { status: response.status });
  return reply;
}

window.netkitRequests = { fetchJson };
})();

// The page's HTML: a static frame the script fills in. No inline script or style (the CSP forbids
// both); the CSRF token sits in a meta tag for the script to send back with each action.

/** The token is base64url (A-Z a-z 0-9 - _), so it needs no escaping in an attribute. */
export function renderPageHtml(csrfToken: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(csrfToken)) throw new Error('unexpected CSRF token alphabet');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken}">
<title>keyless: who holds which role</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header>
  <h1>keyless <span class="sub">who holds which role right now</span></h1>
  <span id="conn" class="conn">connecting…</span>
  <button id="stop" class="danger" type="button">Stop server</button>
</header>
<main>
  <section id="server" aria-label="server"></section>
  <section>
    <h2>Leases <span id="lease-count" class="count"></span></h2>
    <table id="leases">
      <thead><tr><th>Role</th><th>Profile</th><th>Key</th><th>Expires</th><th>Next refresh</th><th>Clients</th><th>Last STS error</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Clients <span id="client-count" class="count"></span></h2>
    <table id="clients">
      <thead><tr><th>Container</th><th>Image</th><th>Address</th><th>Role</th><th>Expires</th><th>First request</th><th>Last request</th><th>Requests</th><th>Refused</th><th>State</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="swarm" hidden>
    <h2>Swarm tasks <span id="swarm-count" class="count"></span></h2>
    <p id="swarm-agent" class="agent"></p>
    <table id="tasks">
      <thead><tr><th>Task</th><th>Service</th><th>Address</th><th>Role</th><th>Key</th><th>Expires</th><th>First request</th><th>Last request</th><th>Requests</th><th>Refused</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Audit log <input id="filter" type="search" placeholder="filter (e.g. revoked, a role, a container)" aria-label="filter the audit log"></h2>
    <table id="audit">
      <thead><tr><th>Time</th><th>Outcome</th><th>Endpoint</th><th>Client</th><th>Container</th><th>Source</th><th>Role</th><th>Key</th><th>Count</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<p id="message" role="status"></p>
</body>
</html>
`;
}

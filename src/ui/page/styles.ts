// The page's stylesheet, served as /app.css (a file of its own: the CSP allows no inline style).
export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5f6b7a; --line: #d8dee4; --bg: #fff;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --line: #30363d;
  --bg: #0d1117; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; flex: 1; }
h1 .sub { font-weight: normal; color: var(--muted); font-size: .9rem; margin-left: .5rem; }
h2 { font-size: 1rem; margin: 1.25rem 0 .5rem; display: flex; align-items: center; gap: .75rem; }
main { padding: 0 1.25rem 1.25rem; }
#server { margin-top: 1rem; color: var(--muted); }
#server b { color: var(--fg); font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
td.error { color: var(--bad); white-space: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.count { color: var(--muted); font-weight: normal; }
.state { font-weight: 600; }
.state.bound { color: var(--ok); } .state.unbound { color: var(--warn); } .state.revoked { color: var(--bad); }
tr.revoked td { color: var(--muted); }
.conn { font-size: .85rem; color: var(--muted); }
.conn.live { color: var(--ok); } .conn.down { color: var(--bad); }
button { font: inherit; font-size: .85rem; padding: .2rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  background: transparent; color: var(--accent); cursor: pointer; }
button.danger { color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
input[type=search] { font: inherit; font-weight: normal; padding: .2rem .5rem; width: 22rem; border: 1px solid var(--line);
  border-radius: 6px; background: transparent; color: var(--fg); }
#audit td { font-family: ui-monospace, monospace; font-size: .8rem; }
#audit tbody tr:nth-child(n+201) { display: none; }
#message { position: fixed; bottom: .5rem; right: 1rem; margin: 0; color: var(--muted); }
.agent { color: var(--muted); margin: 0 0 .5rem; }
[hidden] { display: none !important; }
.empty td { color: var(--muted); font-style: italic; }
`;

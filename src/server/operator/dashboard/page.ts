// The operator dashboard: one self-contained HTML document (every route is behind the token,
// so the page loads nothing else). The styles are below, the script is client.ts as tsc
// compiled it, read once at load and inlined; a Content-Security-Policy lets only these two run.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The compiled browser code, safe inside <script>: no "</script" or "<!--", no source map link. */
const SCRIPT = readFileSync(new URL('./client.js', import.meta.url), 'utf8')
  .replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n')
  .replace(/<\/(script)/gi, '<\\/$1')
  .replace(/<!--/g, '<\\!--');

const STYLE = `
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1c2228;--mut:#5e6a75;--card:#fff;--line:#dde2e7;--acc:#2f6fdb;--red:#c53030}
@media (prefers-color-scheme:dark){:root{--bg:#14171a;--fg:#e3e7eb;--mut:#98a3ad;--card:#1d2125;--line:#30363c;--acc:#6ea0ff;--red:#f07373}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem;padding:.75rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
h1{font-size:1.1rem;margin:0}
h1 span,#pid,#updated{font-weight:400;color:var(--mut)}
#link{margin-left:auto;font-weight:600}
#link::before{content:"";display:inline-block;width:.6em;height:.6em;border-radius:50%;background:currentColor;margin-right:.4em}
[data-connection=live]{color:#1a8f4a}
[data-connection=connecting],[data-connection=reconnecting]{color:#b7791f}
[data-connection=disconnected]{color:var(--red)}
main{display:grid;gap:1.25rem;max-width:1400px;margin:auto;padding:1rem}
h2{margin:0 0 .5rem;font-size:.8rem;letter-spacing:.05em;text-transform:uppercase;color:var(--mut)}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;padding:.75rem 1rem}
input{font:inherit;padding:.25rem .5rem}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;margin:0}
.figs div,.box{background:var(--card);border:1px solid var(--line);border-radius:6px}
.figs div{padding:.5rem .75rem}
dt{font-size:.75rem;color:var(--mut)}
dd{margin:0;font-size:1.15rem;font-variant-numeric:tabular-nums;white-space:nowrap}
.bad dd{color:var(--red)}
.box{overflow-x:auto}
table{width:100%;border-collapse:collapse}
th,td{padding:.45rem .6rem;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap;font-variant-numeric:tabular-nums}
tr:last-child td{border-bottom:0}
th{font-size:.75rem;font-weight:600;color:var(--mut)}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.badge,.tag{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;font-weight:600;background:#e4e8ee;color:#36414c}
.idle,.start{background:#d5f4e1;color:#166035}
.busy,.refused{background:#fff0c0;color:#7d5200}
.starting,.restarting,.restart{background:#dae6ff;color:#1f4ea6}
.dead,.death,.start-failure{background:#fdd8d8;color:#9b1c1c}
button{font:inherit;padding:.2rem .6rem;margin:0 .3rem .2rem 0;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);cursor:pointer}
button:hover{border-color:var(--acc)}
button.danger{color:var(--red)}
button:disabled{opacity:.5;cursor:progress}
.actions{white-space:normal;min-width:15rem}
.note{font-size:.8rem;color:var(--mut)}
.note:empty{display:none}
.note.error{color:var(--red)}
.working{opacity:.7}
#events{list-style:none;margin:0;padding:0;max-height:26rem;overflow-y:auto}
#events li{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2rem .6rem;padding:.4rem .75rem;border-bottom:1px solid var(--line)}
#events li:last-child{border-bottom:0}
#events time{color:var(--mut);font-variant-numeric:tabular-nums}
.msg{flex:1 1 12rem;overflow-wrap:anywhere}
.empty{margin:.5rem 0;color:var(--mut)}
.box:has(#events:empty){display:none}
@media (max-width:760px){
main{padding:.75rem}
.figs{grid-template-columns:repeat(auto-fill,minmax(6.5rem,1fr))}
.figs div{padding:.4rem .6rem}
dd{font-size:1rem}
thead{display:none}
.box.table{background:none;border:0;overflow:visible}
table,tbody,tr,td{display:block}
tr{display:grid;grid-template-columns:1fr 1fr;gap:.2rem 1rem;margin-bottom:.6rem;padding:.5rem .75rem;background:var(--card);border:1px solid var(--line);border-radius:6px}
td{padding:0;border:0;white-space:normal;min-width:0;overflow-wrap:anywhere}
td::before{content:attr(data-label);display:block;font-size:.7rem;color:var(--mut)}
.actions{grid-column:1/-1;min-width:0;padding-top:.3rem}
.actions::before{display:none}
}
`;

const FIGURES: [stat: string, label: string][] = [
  ['uptime', 'Uptime'],
  ['rss', 'Memory (RSS)'],
  ['heap', 'Heap used'],
  ['cpu', 'CPU'],
  ['rps', 'Requests'],
  ['mps', 'Messages'],
  ['eps', 'Errors'],
  ['requests', 'Requests, total'],
  ['messages', 'Messages, total'],
  ['errors', 'Errors, total'],
  ['kernels', 'Kernels'],
];
const COLUMNS = ['Kernel', 'Id', 'State', 'Connections', 'Last activity', 'Uptime', 'Restarts', 'Pid', 'Memory', 'CPU', ''];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text or attribute value, escaped for HTML. */
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function dashboardHtml(opts: { base: string; version: string }): string {
  const version = escape(opts.version);
  return `<!doctype html>
<html lang="en" data-base="${escape(opts.base)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escape(CSP)}">
<meta name="referrer" content="no-referrer">
<title>Kernel Gateway ${version} · dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>Kernel Gateway <span data-stat="version">${version}</span></h1><span id="pid"></span><span id="updated"></span><span id="link" data-connection="connecting" role="status">Connecting…</span></header>
<form id="auth" hidden><label>Token <input id="token" type="password" autocomplete="off" required></label><button>Connect</button></form>
<main>
<section><h2>Gateway</h2><dl class="figs">${FIGURES.map(([stat, label]) => `<div><dt>${label}</dt><dd data-stat="${stat}">–</dd></div>`).join('')}</dl></section>
<section><h2>Kernels</h2><div class="box table"><table><thead><tr>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody id="kernels"></tbody></table></div><p id="no-kernels" class="empty" hidden>No kernels running.</p></section>
<section><h2>Events</h2><div class="box"><ol id="events"></ol></div><p id="no-events" class="empty" hidden>No events yet.</p></section>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>
`;
}

// The noVNC console page: our own minimal page around noVNC's RFB module (the npm package ships no pages).

/**
 * Reads the websocket path from `?path=` (relative to the host's root, as noVNC's pages do, so Nova's access
 * URLs work unchanged), connects with the `binary` subprotocol, scales the screen to the window, and offers
 * Ctrl+Alt+Del. `?title=` names the tab; `?view_only=true` disables input.
 */
export const VNC_PAGE_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>noVNC console</title>
<style>
  html, body { margin: 0; height: 100%; background: #1f1f1f; color: #eee; font: 14px sans-serif; }
  body { display: flex; flex-direction: column; }
  #bar { display: flex; align-items: center; gap: 1em; padding: 4px 8px; background: #3a3a3a; }
  #status { flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #screen { flex: 1; overflow: hidden; }
  button { font: inherit; }
</style>
</head>
<body>
<div id="bar">
  <span id="status">Connecting…</span>
  <button id="cad" type="button" disabled>Send Ctrl+Alt+Del</button>
</div>
<div id="screen"></div>
<script type="module">
import RFB from './core/rfb.js';

const params = new URLSearchParams(window.location.search);
const status = document.getElementById('status');
const cad = document.getElementById('cad');
const title = params.get('title');
if (title) document.title = title;
const say = (text) => { status.textContent = text; };

const path = (params.get('path') ?? 'websockify').replace(/^\\/+/, '');
const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
const url = scheme + '://' + window.location.host + '/' + path;

let rfb;
try {
  rfb = new RFB(document.getElementById('screen'), url, { wsProtocols: ['binary'], shared: true });
} catch (err) {
  say('Cannot start noVNC: ' + err.message);
}
if (rfb) {
  rfb.scaleViewport = params.get('scale') !== 'false';
  rfb.viewOnly = params.get('view_only') === 'true';
  rfb.addEventListener('connect', () => { say('Connected' + (title ? ' to ' + title : '')); cad.disabled = false; });
  rfb.addEventListener('disconnect', (e) => {
    cad.disabled = true;
    say(e.detail.clean ? 'Disconnected' : 'Something went wrong, the connection closed');
  });
  rfb.addEventListener('desktopname', (e) => { if (!title) document.title = e.detail.name; });
  rfb.addEventListener('credentialsrequired', () => say('The console asks for credentials this page cannot give'));
  cad.addEventListener('click', () => rfb.sendCtrlAltDel());
}
</script>
</body>
</html>
`;

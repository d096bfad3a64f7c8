// Shadow Nexus call page. One RTCPeerConnection to videod (an SFU): our own
// tracks go up as sendonly m-lines; each other participant's track comes
// down on a recvonly m-line we add for it. We always make the offer; the
// server answers. Room state arrives by Server-Sent Events.
'use strict';

const $ = (id) => document.getElementById(id);
const hashArgs = new URLSearchParams(location.hash.slice(1));
const query = new URLSearchParams(location.search);
const lowQuality = query.get('q') === 'low';

let me = null;
let call = null;
let pendingRoom = '';
let reconnectDelay = 1000;
let reconnectTimer = null;

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const r = await fetch(path, opts);
  let j = {};
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const err = new Error(j.error || ('the server answered ' + r.status));
    err.status = r.status;
    throw err;
  }
  return j;
}

function show(section) {
  for (const s of ['login', 'lobby', 'call']) $(s).classList.toggle('hidden', s !== section);
}

function banner(text, bad) {
  const b = $('banner');
  b.textContent = text || '';
  b.classList.toggle('hidden', !text);
  b.classList.toggle('bad', !!bad);
  b.dataset.kind = text ? (bad ? 'bad' : 'info') : '';
}

function why(e) {
  switch (e && e.name) {
    case 'NotAllowedError': return 'permission was refused';
    case 'NotFoundError': return 'none was found';
    case 'NotReadableError': return 'it is in use by another program';
    case 'OverconstrainedError': return 'the chosen device is gone';
    default: return (e && e.message) || 'unknown error';
  }
}

// ---- devices ----

async function fillDevices() {
  let devs = [];
  try { devs = await navigator.mediaDevices.enumerateDevices(); } catch (e) { return; }
  for (const [kind, ids] of [['videoinput', ['camera-select', 'camera-select-call']],
    ['audioinput', ['mic-select', 'mic-select-call']]]) {
    for (const id of ids) {
      const sel = $(id);
      const keep = sel.value;
      sel.textContent = '';
      sel.append(new Option('Default', ''));
      devs.filter((d) => d.kind === kind).forEach((d, i) =>
        sel.append(new Option(d.label || (kind === 'videoinput' ? 'Camera ' : 'Microphone ') + (i + 1), d.deviceId)));
      sel.value = keep;
    }
  }
}

function videoConstraints() {
  const v = lowQuality ? { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15 } }
    : { width: { ideal: 1280 }, height: { ideal: 720 } };
  const cam = $('camera-select').value;
  if (cam) v.deviceId = { exact: cam };
  return v;
}

function audioConstraints() {
  const mic = $('mic-select').value;
  return mic ? { deviceId: { exact: mic } } : true;
}

async function getMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(), video: videoConstraints() });
  } catch (e) {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints() });
      banner('Your camera cannot be used (' + why(e) + '): you are in the call with sound only.', false);
      return s;
    } catch (e2) {
      banner('Camera and microphone were refused (' + why(e2) + '): you can watch and listen, ' +
        'but others cannot see or hear you. Allow them for this page and join again.', true);
      return null;
    }
  }
}

// ---- joining and leaving ----

async function join(room, retrying) {
  $('join-error').textContent = '';
  const local = await getMedia();
  fillDevices();
  let j;
  try {
    j = await api('/api/join', { room });
  } catch (e) {
    if (local) local.getTracks().forEach((t) => t.stop());
    if (retrying && (e.status === undefined || e.status >= 500)) {
      scheduleReconnect(room, 'the server is not answering');
      return;
    }
    if (e.status === 401) { show('login'); pendingRoom = room; return; }
    show('lobby');
    $('join-error').textContent = e.message;
    return;
  }
  if (retrying) banner('');
  reconnectDelay = 1000;
  call = {
    id: j.id, room: j.room, state: j.state, local, screen: null, pc: null, es: null,
    subs: new Map(), audioTx: null, videoTx: null, screenTx: null, negotiating: false,
    again: false, negotiated: false, pubDirty: true, closed: false,
    muted: false, cameraOff: !local || local.getVideoTracks().length === 0, hand: false,
    lostTimer: null,
  };
  $('room-name').textContent = call.room;
  history.replaceState(null, '', location.pathname + '?' + new URLSearchParams(
    Object.assign(Object.fromEntries(query), { room: call.room })));
  show('call');
  updateButtons();
  setupPc();
  openEvents();
  render();
  negotiate();
  if (call.cameraOff && local) api('/api/state', { id: call.id, camera_off: true }).catch(() => {});
}

function teardown(sendLeave) {
  const c = call;
  if (!c) return;
  c.closed = true;
  call = null;
  clearTimeout(c.lostTimer);
  if (c.es) c.es.close();
  if (c.pc) c.pc.close();
  for (const s of [c.local, c.screen]) if (s) s.getTracks().forEach((t) => t.stop());
  if (sendLeave) api('/api/leave', { id: c.id }).catch(() => {});
  $('grid').textContent = '';
}

function scheduleReconnect(room, reason) {
  banner('Connection lost (' + reason + '): reconnecting in ' + Math.round(reconnectDelay / 1000) + ' s…', true);
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(() => join(room, true), reconnectDelay);
  reconnectDelay = Math.min(reconnectDelay * 2, 10000);
}

function lost(reason) {
  if (!call || call.closed) return;
  const room = call.room;
  teardown(true);
  show('call');
  scheduleReconnect(room, reason);
}

function leave() {
  clearTimeout(reconnectTimer);
  teardown(true);
  banner('');
  show('lobby');
}

// ---- signalling ----

function setupPc() {
  const c = call;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  c.pc = pc;
  const streams = c.local ? [c.local] : [];
  const at = c.local && c.local.getAudioTracks()[0];
  const vt = c.local && c.local.getVideoTracks()[0];
  // Always one m-line, so the transport comes up even with nothing to send.
  c.audioTx = pc.addTransceiver(at || 'audio', { direction: at ? 'sendonly' : 'inactive', streams });
  if (vt) c.videoTx = pc.addTransceiver(vt, { direction: 'sendonly', streams });
  pc.onconnectionstatechange = () => {
    if (c.closed) return;
    const s = pc.connectionState;
    if (s === 'failed') lost('the media connection failed');
    else if (s === 'disconnected') {
      banner('The connection is unstable…', false);
      clearTimeout(c.lostTimer);
      c.lostTimer = setTimeout(() => { if (pc.connectionState !== 'connected') lost('no media for a while'); }, 6000);
    } else if (s === 'connected') {
      clearTimeout(c.lostTimer);
      if ($('banner').dataset.kind === 'info' && $('banner').textContent.startsWith('The connection')) banner('');
    }
  };
}

function openEvents() {
  const c = call;
  const es = new EventSource('/api/events?id=' + encodeURIComponent(c.id));
  c.es = es;
  es.addEventListener('state', (ev) => {
    if (c.closed) return;
    c.state = JSON.parse(ev.data);
    render();
    negotiate();
  });
  es.addEventListener('reaction', (ev) => showReaction(JSON.parse(ev.data)));
  // The login was revoked (password reset, account removed): videod has
  // taken us out of the call; no reconnecting (it would only get 401s),
  // the login form with the reason instead.
  es.addEventListener('revoked', (ev) => {
    if (c.closed) return;
    let msg = 'your login was revoked: log in again';
    try { msg = JSON.parse(ev.data).message || msg; } catch (e) { /* keep the default */ }
    clearTimeout(reconnectTimer);
    pendingRoom = c.room;
    teardown(false);
    banner('');
    show('login');
    $('login-error').textContent = msg.charAt(0).toUpperCase() + msg.slice(1) + '.';
  });
  es.onerror = () => { if (!c.closed) lost('the server connection dropped'); };
}

async function negotiate() {
  const c = call;
  if (!c || c.closed) return;
  if (c.negotiating) { c.again = true; return; }
  c.negotiating = true;
  try {
    do {
      c.again = false;
      await negotiateOnce(c);
    } while (!c.closed && c.again);
  } catch (e) {
    console.log('negotiation failed', e);
    if (!c.closed) lost('negotiation failed: ' + e.message);
  }
  c.negotiating = false;
}

function wantedTracks(c) {
  const want = new Map();
  for (const p of c.state.participants || []) {
    if (p.id === c.id) continue;
    for (const t of p.tracks) want.set(t.id, t);
  }
  return want;
}

async function negotiateOnce(c) {
  const pc = c.pc;
  const want = wantedTracks(c);
  let changed = !c.negotiated || c.pubDirty;
  for (const [id, tr] of c.subs) {
    if (!want.has(id)) { tr.stop(); c.subs.delete(id); changed = true; }
  }
  for (const [id, t] of want) {
    if (!c.subs.has(id)) { c.subs.set(id, pc.addTransceiver(t.kind, { direction: 'recvonly' })); changed = true; }
  }
  if (!changed) return;
  c.pubDirty = false;
  await pc.setLocalDescription(await pc.createOffer());
  const publish = {}; const subscribe = {};
  if (c.audioTx && c.audioTx.mid) publish[c.audioTx.mid] = 'audio';
  if (c.videoTx && c.videoTx.mid) publish[c.videoTx.mid] = 'camera';
  if (c.screenTx && c.screenTx.mid) publish[c.screenTx.mid] = 'screen';
  for (const [id, tr] of c.subs) if (tr.mid) subscribe[tr.mid] = id;
  const j = await api('/api/offer', { id: c.id, sdp: pc.localDescription.sdp, publish, subscribe });
  if (c.closed) return;
  await pc.setRemoteDescription({ type: 'answer', sdp: j.sdp });
  c.negotiated = true;
  render();
}

// ---- the grid ----

function trackOwner(c, trackId) {
  for (const p of c.state.participants || []) for (const t of p.tracks) if (t.id === trackId) return [p, t];
  return [null, null];
}

function makeTile(key, name) {
  const tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.key = key;
  const video = document.createElement('video');
  video.autoplay = true; video.playsInline = true; video.muted = true;
  const avatar = document.createElement('div'); avatar.className = 'avatar';
  avatar.textContent = (name || '?').slice(0, 1).toUpperCase();
  const label = document.createElement('div'); label.className = 'name';
  const badges = document.createElement('div'); badges.className = 'badges';
  tile.append(video, avatar, label, badges);
  return tile;
}

function setStream(el, track) {
  const cur = el.srcObject && el.srcObject.getTracks()[0];
  if (cur === track) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) el.play().catch(() => {});
}

function tileFor(grid, tiles, key, name) {
  let t = grid.querySelector('.tile[data-key="' + CSS.escape(key) + '"]');
  if (!t) t = makeTile(key, name);
  tiles.push(t);
  return t;
}

function fillTile(tile, p, label, videoTrack, isSelf) {
  const hasVideo = !!videoTrack && !(p.camera_off && tile.dataset.screen !== '1');
  tile.dataset.peer = p.id;
  tile.dataset.user = p.user;
  tile.classList.toggle('self', isSelf && tile.dataset.screen !== '1');
  tile.classList.toggle('speaking', !!p.speaking);
  tile.querySelector('.name').textContent = label;
  tile.querySelector('.avatar').classList.toggle('hidden', hasVideo);
  tile.querySelector('video').classList.toggle('hidden', !hasVideo);
  setStream(tile.querySelector('video'), videoTrack);
  tile.querySelector('.badges').textContent = (p.hand ? '✋' : '') + (p.muted ? '🔇' : '') +
    (p.connected ? '' : '⏳');
}

function render() {
  const c = call;
  if (!c) return;
  const grid = $('grid');
  const tiles = [];
  const audios = [];
  for (const p of c.state.participants || []) {
    const self = p.id === c.id;
    const cam = self ? (c.local && c.local.getVideoTracks()[0]) : null;
    const tile = tileFor(grid, tiles, p.id, p.user);
    let camTrack = cam;
    let screenTrack = self && c.screen ? c.screen.getVideoTracks()[0] : null;
    if (!self) {
      for (const [id, tr] of c.subs) {
        const [owner, t] = trackOwner(c, id);
        if (!owner || owner.id !== p.id || !tr.mid) continue;
        if (t.label === 'camera') camTrack = tr.receiver.track;
        else if (t.label === 'screen') screenTrack = tr.receiver.track;
        else if (t.kind === 'audio') audios.push([p.id + '-audio', tr.receiver.track]);
      }
    }
    fillTile(tile, p, self ? p.user + ' (you)' : p.user, camTrack, self);
    if (screenTrack) {
      const st = tileFor(grid, tiles, p.id + '-screen', p.user);
      st.dataset.screen = '1';
      st.classList.add('screen');
      fillTile(st, p, p.user + ' (screen)', screenTrack, self);
    }
  }
  for (const t of [...grid.children]) if (!tiles.includes(t) && t.tagName !== 'AUDIO') t.remove();
  tiles.forEach((t, i) => { if (grid.children[i] !== t) grid.insertBefore(t, grid.children[i] || null); });
  const keep = new Set();
  for (const [key, track] of audios) {
    keep.add(key);
    let a = grid.querySelector('audio[data-key="' + CSS.escape(key) + '"]');
    if (!a) { a = document.createElement('audio'); a.autoplay = true; a.dataset.key = key; grid.append(a); }
    setStream(a, track);
  }
  for (const a of grid.querySelectorAll('audio')) if (!keep.has(a.dataset.key)) a.remove();
  grid.style.setProperty('--cols', Math.max(1, Math.ceil(Math.sqrt(tiles.length))));
  const n = (c.state.participants || []).length;
  $('count').textContent = n + (n === 1 ? ' person' : ' people');
}

function showReaction(r) {
  const tile = document.querySelector('.tile[data-key="' + CSS.escape(r.id) + '"]');
  if (!tile) return;
  const s = document.createElement('span');
  s.className = 'reaction';
  s.textContent = r.reaction;
  tile.append(s);
  setTimeout(() => s.remove(), 3000);
}

// ---- controls ----

function updateButtons() {
  const c = call;
  if (!c) return;
  const hasMic = c.local && c.local.getAudioTracks().length > 0;
  const hasCam = c.local && c.local.getVideoTracks().length > 0;
  $('btn-mute').textContent = c.muted ? 'Unmute' : 'Mute';
  $('btn-mute').classList.toggle('on', c.muted);
  $('btn-mute').disabled = !hasMic;
  $('btn-camera').textContent = c.cameraOff ? 'Camera on' : 'Camera off';
  $('btn-camera').classList.toggle('on', c.cameraOff);
  $('btn-camera').disabled = !hasCam;
  $('btn-screen').textContent = c.screen ? 'Stop sharing' : 'Share screen';
  $('btn-screen').classList.toggle('on', !!c.screen);
  $('btn-hand').textContent = c.hand ? 'Lower hand' : 'Raise hand';
  $('btn-hand').classList.toggle('on', c.hand);
}

function sendState(fields) {
  if (!call) return;
  api('/api/state', Object.assign({ id: call.id }, fields)).catch((e) => banner(e.message, true));
}

function toggleMute() {
  const c = call;
  c.muted = !c.muted;
  c.local.getAudioTracks().forEach((t) => { t.enabled = !c.muted; });
  updateButtons();
  sendState({ muted: c.muted });
}

function toggleCamera() {
  const c = call;
  c.cameraOff = !c.cameraOff;
  c.local.getVideoTracks().forEach((t) => { t.enabled = !c.cameraOff; });
  updateButtons();
  sendState({ camera_off: c.cameraOff });
}

function stopScreen() {
  const c = call;
  if (!c || !c.screen) return;
  c.screen.getTracks().forEach((t) => t.stop());
  c.screen = null;
  if (c.screenTx) c.screenTx.stop();
  c.screenTx = null;
  c.pubDirty = true;
  updateButtons();
  negotiate();
}

async function toggleScreen() {
  const c = call;
  if (c.screen) { stopScreen(); return; }
  try {
    c.screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (e) {
    banner('Screen sharing did not start (' + why(e) + ').', false);
    return;
  }
  const track = c.screen.getVideoTracks()[0];
  track.onended = stopScreen;
  c.screenTx = c.pc.addTransceiver(track, { direction: 'sendonly', streams: [c.screen] });
  c.pubDirty = true;
  updateButtons();
  render();
  negotiate();
}

async function switchDevice(kind, deviceId) {
  const c = call;
  if (!c || !c.local) return;
  const constraints = kind === 'video' ? { video: videoConstraints() } : { audio: audioConstraints() };
  let s;
  try { s = await navigator.mediaDevices.getUserMedia(constraints); } catch (e) {
    banner('That device cannot be used (' + why(e) + ').', true);
    return;
  }
  const track = s.getTracks()[0];
  const tx = kind === 'video' ? c.videoTx : c.audioTx;
  const old = kind === 'video' ? c.local.getVideoTracks()[0] : c.local.getAudioTracks()[0];
  if (!tx || !old) { track.stop(); return; }
  track.enabled = kind === 'video' ? !c.cameraOff : !c.muted;
  await tx.sender.replaceTrack(track);
  c.local.removeTrack(old); old.stop();
  c.local.addTrack(track);
  render();
  void deviceId;
}

function wire() {
  $('login-form').onsubmit = async (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    try {
      const j = await api('/api/login', { user: $('login-user').value, password: $('login-password').value });
      me = j.user;
      $('login-password').value = '';
      enterLobby(pendingRoom);
    } catch (e) { $('login-error').textContent = e.message; }
  };
  $('join-form').onsubmit = (ev) => { ev.preventDefault(); join($('join-room').value.trim(), false); };
  $('logout').onclick = async (ev) => { ev.preventDefault(); await api('/api/logout', {}).catch(() => {}); me = null; show('login'); };
  $('btn-mute').onclick = toggleMute;
  $('btn-camera').onclick = toggleCamera;
  $('btn-screen').onclick = toggleScreen;
  $('btn-hand').onclick = () => { call.hand = !call.hand; updateButtons(); sendState({ hand: call.hand }); };
  for (const b of document.querySelectorAll('.react')) b.onclick = () => sendState({ reaction: b.dataset.r });
  $('btn-leave').onclick = leave;
  $('btn-devices').onclick = () => $('devices').classList.toggle('hidden');
  $('camera-select-call').onchange = (ev) => { $('camera-select').value = ev.target.value; switchDevice('video', ev.target.value); };
  $('mic-select-call').onchange = (ev) => { $('mic-select').value = ev.target.value; switchDevice('audio', ev.target.value); };
}

function enterLobby(room) {
  $('me').textContent = me;
  $('join-room').value = room || '';
  show('lobby');
  fillDevices();
  if (room) join(room, false);
}

async function start() {
  wire();
  const code = hashArgs.get('code');
  const room = hashArgs.get('room') || query.get('room') || '';
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  if (code) {
    try { await api('/api/login', { code }); } catch (e) { $('login-error').textContent = e.message; }
  }
  try {
    me = (await api('/api/me')).user;
  } catch (e) {
    pendingRoom = room;
    show('login');
    return;
  }
  enterLobby(room);
}

// For tests and the curious: what the connection received.
window.nexus = {
  state: () => call && call.state,
  id: () => call && call.id,
  async inbound() {
    const out = [];
    if (!call || !call.pc) return out;
    (await call.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp') {
        out.push({ out: true, kind: s.kind, ssrc: s.ssrc, packetsSent: s.packetsSent,
          framesEncoded: s.framesEncoded, keyFramesEncoded: s.keyFramesEncoded, pliCount: s.pliCount,
          frameWidth: s.frameWidth });
      }
      if (s.type === 'inbound-rtp') {
        out.push({ kind: s.kind, ssrc: s.ssrc, packetsReceived: s.packetsReceived || 0,
          framesDecoded: s.framesDecoded || 0, bytesReceived: s.bytesReceived || 0,
          framesReceived: s.framesReceived || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
          pliCount: s.pliCount || 0, nackCount: s.nackCount || 0, codecId: s.codecId,
          frameWidth: s.frameWidth || 0 });
      }
    });
    return out;
  },
};

start();

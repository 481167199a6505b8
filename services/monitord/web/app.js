// monitord's dashboard: one WebSocket (/api/live) pushes the state after every round; the page
// keeps the last MAX_POINTS of each history and draws the topology (cytoscape), the charts
// (uPlot) and the tables from them. Nothing is polled, and nothing grows without bound.
'use strict';

const MAX_POINTS = 600;        // per series, on the page
const RESOLVED_KEPT = 30;      // resolved alerts listed
const SPARK_POINTS = 120;      // of each agent's PnL in its row
const EVENTS_KEPT = 40;        // events listed
const PALETTE = ['#3fa7d6', '#e0a030', '#8f7ae6', '#3fbf7f', '#e5534b', '#d66ba0', '#9fb83f',
                 '#6cc6c6', '#c08050', '#a0a8b0'];
const ROLE_COLOURS = { exchange: '#e0a030', validator: '#8f7ae6', agent: '#3fa7d6',
                       proxy: '#8a96a3', monitor: '#8a96a3' };

const page = {
  state: null,
  history: new Map(),   // series name -> [[t_ns, value], ...]
  resolved: [],         // newest last
  events: [],           // from the telemetry streams, newest last
  cy: null,
  charts: new Map(),    // element id -> {plot, key}
  sort: { key: 'pnl', descending: true },
  picked: null,         // the agent of the analysis panel
  connected: false,
  rounds: 0,
};
window.dashboard = page;  // for the browser test and the curious

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

// --- the feed ---

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
  ws.onopen = () => setConnected(true);
  ws.onclose = () => {
    setConnected(false);
    setTimeout(connect, 2000);
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'hello') {
      page.history = new Map(Object.entries(message.history).map(([k, v]) => [k, v.slice(-MAX_POINTS)]));
      page.resolved = message.resolved.slice(-RESOLVED_KEPT);
    } else if (message.type === 'round') {
      for (const [name, points] of Object.entries(message.points)) for (const p of points) append(name, p);
      mergeResolved(message.resolved);
    }
    mergeEvents(message.events);
    page.state = message.state;
    page.rounds += 1;
    const started = performance.now();
    render();
    page.renderMs = performance.now() - started;  // how long a round takes to draw
    page.renderMsMax = Math.max(page.renderMsMax || 0, page.renderMs);
  };
}

function append(name, point) {
  let series = page.history.get(name);
  if (!series) page.history.set(name, (series = []));
  if (series.length && series[series.length - 1][0] >= point[0]) return;
  series.push(point);
  if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
}

function mergeEvents(events) {
  const last = page.events.length ? page.events[page.events.length - 1].seq : 0;
  for (const e of events) if (e.seq > last) page.events.push(e);
  if (page.events.length > EVENTS_KEPT) page.events.splice(0, page.events.length - EVENTS_KEPT);
}

function mergeResolved(alerts) {
  const known = new Set(page.resolved.map((a) => a.id));
  for (const a of alerts) if (!known.has(a.id)) page.resolved.push(a);
  if (page.resolved.length > RESOLVED_KEPT) page.resolved.splice(0, page.resolved.length - RESOLVED_KEPT);
}

function setConnected(on) {
  page.connected = on;
  const pill = $('#link-state');
  pill.textContent = on ? 'live' : 'disconnected';
  pill.className = `pill ${on ? 'on' : 'off'}`;
}

// --- helpers ---

const series = (name) => page.history.get(name) || [];
const tick = (symbol) => Number((page.state.symbols || {})[symbol] || 1);
const money = (cents) => (cents / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const ms = (us) => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1e5 ? `${Math.round(us / 1e3)} ms`
                   : us >= 1e3 ? `${(us / 1e3).toFixed(1)} ms` : `${Math.round(us)} µs`);
const ago = (ns) => {
  const s = Math.max(0, (Date.now() * 1e6 - ns) / 1e9);
  return s < 60 ? `${Math.round(s)} s ago` : `${Math.round(s / 60)} min ago`;
};
const delayColour = (us, cut) => (cut ? '#e5534b' : us < 10e3 ? '#3fbf7f' : us < 100e3 ? '#e0b040' : '#e5534b');

// A venue's mid price of a symbol, in price units, at every round both sides were known.
function mids(venue, symbol) {
  const t = tick(symbol);
  const bids = new Map(series(`price/${venue}/${symbol}/bid`));
  return series(`price/${venue}/${symbol}/ask`).filter(([ts]) => bids.has(ts))
    .map(([ts, ask]) => [ts, ((bids.get(ts) + ask) / 2) * t]);
}

// Aligns [[t_ns, v]...] series on one time axis (seconds) for uPlot.
function align(list) {
  const times = new Set();
  for (const s of list) for (const [t] of s) times.add(t);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const ys = list.map((s) => {
    const y = new Array(xs.length).fill(null);
    for (const [t, v] of s) y[index.get(t)] = v;
    return y;
  });
  return [xs.map((t) => t / 1e9), ...ys];
}

// A uPlot chart in `id`, made again when its series change; returns it.
function chart(id, names, data, { height = 170, format = (v) => v, spanGaps = true, styles = [] } = {}) {
  const holder = document.getElementById(id);
  const key = names.join('|');
  let entry = page.charts.get(id);
  if (!entry || entry.key !== key) {
    if (entry) entry.plot.destroy();
    holder.textContent = '';
    const opts = {
      width: Math.max(200, holder.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#8793a0', grid: { stroke: '#2a333d' }, ticks: { stroke: '#2a333d' } },
        { stroke: '#8793a0', grid: { stroke: '#2a333d' }, ticks: { stroke: '#2a333d' }, size: 60,
          values: (u, vals) => vals.map(format) },
      ],
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length], width: 1.5,
                                              spanGaps, value: (u, v) => (v == null ? '–' : format(v)),
                                              ...(styles[i] || {}) }))],
    };
    entry = { key, plot: new uPlot(opts, data, holder) };
    page.charts.set(id, entry);
  } else {
    entry.plot.setData(data);
  }
  return entry.plot;
}

window.addEventListener('resize', () => {
  for (const [id, entry] of page.charts) {
    entry.plot.setSize({ width: Math.max(200, document.getElementById(id).clientWidth), height: entry.plot.height });
  }
});

// --- the panels ---

function render() {
  const s = page.state;
  $('#scenario').textContent = s.scenario;
  const up = s.nodes.filter((n) => n.up).length;
  $('#nodes-up').textContent = `${up} of ${s.nodes.length} nodes up`;
  $('#alert-count').textContent = `${s.alerts.length} alert${s.alerts.length === 1 ? '' : 's'}`;
  $('#updated').textContent = `round ${s.rounds}`;
  renderTopology();
  renderAlerts();
  renderPrices();
  renderRates();
  renderConsensus();
  renderLatency();
  const rows = agentRows();
  renderAgents(rows);
  renderAnalysis(rows);
  renderEvents();
}

// Sites on a circle, each site's nodes in a small grid (exchanges, validators, then agents), the
// management network (the proxy) in the middle: the same picture on every load.
function sitePositions(nodes) {
  const order = { exchange: 0, validator: 1, agent: 2, proxy: 3 };
  const sites = [...new Set(nodes.map((n) => n.site).filter(Boolean))];
  const radius = sites.length > 1 ? 70 + 30 * sites.length : 0;
  const positions = {};
  const place = (members, cx, cy) => {
    members.sort((a, b) => (order[a.role] ?? 9) - (order[b.role] ?? 9) || a.id.localeCompare(b.id));
    const columns = Math.ceil(Math.sqrt(members.length));
    members.forEach((n, i) => {
      const col = i % columns, row = Math.floor(i / columns);
      positions[n.id] = { x: cx + (col - (columns - 1) / 2) * 85, y: cy + row * 60 };
    });
  };
  sites.forEach((site, i) => {
    const angle = Math.PI + (2 * Math.PI * i) / sites.length;  // the first on the left
    place(nodes.filter((n) => n.site === site), radius * Math.cos(angle) * 1.6, radius * Math.sin(angle));
  });
  place(nodes.filter((n) => !n.site), 0, sites.length > 1 ? 0 : 170);
  return positions;
}

function renderTopology() {
  const s = page.state;
  if (!page.cy) {
    const elements = [];
    const sites = new Set(s.nodes.map((n) => n.site).filter(Boolean));
    for (const site of sites) elements.push({ data: { id: `site:${site}`, label: site, kind: 'site' } });
    elements.push({ data: { id: 'site:management', label: 'management', kind: 'site' } });
    for (const n of s.nodes) {
      elements.push({ data: { id: n.id, label: n.id, role: n.role, kind: 'node',
                              parent: n.site ? `site:${n.site}` : 'site:management' } });
    }
    page.cy = cytoscape({
      container: $('#graph'),
      elements,
      wheelSensitivity: 0.2,
      style: [
        { selector: 'node[kind="site"]', style: { label: 'data(label)', 'text-valign': 'top', color: '#8793a0',
          'font-size': 11, 'background-color': '#1d252e', 'background-opacity': 0.6, 'border-color': '#2a333d',
          'border-width': 1, shape: 'round-rectangle', padding: 8 } },
        { selector: 'node[kind="node"]', style: { label: 'data(label)', color: '#d8dee6', 'font-size': 11,
          'text-valign': 'bottom', 'text-margin-y': 3, width: 20, height: 20,
          'background-color': (e) => ROLE_COLOURS[e.data('role')] || '#8a96a3', 'border-width': 0 } },
        { selector: 'node.down', style: { 'background-color': '#3a2222', 'border-color': '#e5534b', 'border-width': 3 } },
        { selector: 'edge', style: { width: 1.5, 'line-color': 'data(colour)', 'curve-style': 'haystack', opacity: 0.8 } },
        { selector: 'edge.stale', style: { 'line-color': '#5b6570', opacity: 0.5 } },
        { selector: 'edge.cut', style: { 'line-style': 'dashed', width: 2.5, 'line-color': '#e5534b', opacity: 1,
          label: 'cut', color: '#e5534b', 'font-size': 9, 'curve-style': 'straight' } },
      ],
      layout: { name: 'preset', positions: sitePositions(s.nodes), padding: 16 },
    });
  }
  const cy = page.cy;
  for (const n of s.nodes) {
    const node = cy.getElementById(n.id);
    if (node.nonempty()) node.toggleClass('down', !n.up);
  }
  const stale = Boolean(s.links_error);
  // One edge per pair of nodes that talk (either way) or are cut: by the proxy, or where a node's
  // calls to another that is up fail (the proxy may not know: it is paused, or the cut is below it).
  const pairs = new Map();
  for (const l of [...s.links, ...s.unreachable.map((u) => ({ ...u, delay_p99_us: 0, partitioned: true }))]) {
    if (!l.carried_traffic && !l.partitioned) continue;
    const [a, b] = [l.from, l.to].sort();
    const key = `${a}|${b}`;
    const p = pairs.get(key) || { a, b, p99: 0, cut: false };
    p.p99 = Math.max(p.p99, l.delay_p99_us);
    p.cut = p.cut || l.partitioned;
    pairs.set(key, p);
  }
  cy.batch(() => {
    cy.edges().forEach((e) => { if (!pairs.has(e.id())) e.remove(); });
    for (const [key, p] of pairs) {
      if (cy.getElementById(p.a).empty() || cy.getElementById(p.b).empty()) continue;
      let edge = cy.getElementById(key);
      if (edge.empty()) edge = cy.add({ group: 'edges', data: { id: key, source: p.a, target: p.b } });
      edge.data('colour', delayColour(p.p99, p.cut));
      edge.data('p99', p.p99);
      edge.toggleClass('cut', p.cut);
      edge.toggleClass('stale', stale && !p.cut);  // the proxy's figures are old: grey, not green
    }
  });
  const note = $('#links-stale');
  note.hidden = !stale;
  note.textContent = stale ? `links as last seen: the proxy does not answer (${s.links_error})` : '';
}

function alertItem(a, resolved) {
  const li = el('li', { class: a.severity, 'data-rule': a.rule, 'data-subject': a.subject });
  li.append(el('b', {}, `${a.rule.replaceAll('_', ' ')} `), document.createTextNode(a.subject));
  const when = resolved ? `lasted ${((a.ended_ns - a.started_ns) / 1e9).toFixed(1)} s` : `since ${ago(a.started_ns)}`;
  li.append(el('span', { class: 'when' }, when), el('span', { class: 'evidence' }, a.evidence));
  return li;
}

function renderAlerts() {
  const active = $('#alerts-active');
  active.textContent = '';
  const alerts = [...page.state.alerts].reverse();
  if (!alerts.length) active.append(el('li', { class: 'none' }, 'no alerts'));
  for (const a of alerts) active.append(alertItem(a, false));
  const resolved = $('#alerts-resolved');
  resolved.textContent = '';
  for (const a of [...page.resolved].reverse()) resolved.append(alertItem(a, true));
}

function renderPrices() {
  const s = page.state;
  const holder = $('#price-charts');
  const symbols = [...new Set(s.quotes.map((q) => q.symbol))];
  for (const symbol of symbols) {
    const id = `price-${symbol}`;
    if (!document.getElementById(id)) {
      holder.append(el('div', { class: 'chart-title' }, symbol), el('div', { id }));
    }
    const venues = s.quotes.filter((q) => q.symbol === symbol).map((q) => q.venue);
    chart(id, venues, align(venues.map((v) => mids(v, symbol))), { height: symbols.length > 2 ? 120 : 170, format: (v) => v.toFixed(2) });
  }
}

function renderRates() {
  const s = page.state;
  const venues = [...new Set(s.quotes.map((q) => q.venue))];
  const trades = venues.map((v) => {
    const sums = new Map();
    for (const q of s.quotes.filter((x) => x.venue === v)) {
      for (const [t, r] of series(`rate/${v}/${q.symbol}/trades`)) sums.set(t, (sums.get(t) || 0) + r);
    }
    return [...sums.entries()].sort((a, b) => a[0] - b[0]);
  });
  const orders = venues.map((v) => series(`rate/${v}/orders`));
  chart('rate-chart', [...venues.map((v) => `${v} trades`), ...venues.map((v) => `${v} orders`)],
        align([...trades, ...orders]), { height: 150, format: (v) => v.toFixed(1) });
  chart('lag-chart', venues, align(venues.map((v) => series(`settlement/${v}/lag_ms`))),
        { height: 110, format: (v) => Math.round(v) });
}

function renderConsensus() {
  const vs = page.state.validators;
  const top = Math.max(0, ...vs.map((v) => v.commit_index));
  const body = $('#validators tbody');
  body.textContent = '';
  for (const v of vs) {
    const tr = el('tr', { class: v.up ? '' : 'down' });
    tr.append(el('td', {}, v.id),
              el('td', { class: v.leads && v.up ? 'leader' : '' }, !v.up ? 'down' : v.leads ? 'leader' : 'follower'),
              el('td', { class: 'num' }, v.term), el('td', { class: 'num' }, v.commit_index),
              el('td', { class: 'num' }, top - v.commit_index));
    body.append(tr);
  }
}

function renderLatency() {
  const links = page.state.links.filter((l) => l.carried_traffic)
    .sort((a, b) => b.delay_mean_us - a.delay_mean_us).slice(0, 12);
  const holder = $('#latency');
  holder.textContent = '';
  const top = Math.max(1, ...links.map((l) => l.delay_mean_us));
  for (const l of links) {
    const row = el('div', { class: 'row' });
    const track = el('div', { class: 'track' });
    const fill = el('div', { class: 'fill' });
    fill.style.width = l.partitioned ? '100%' : `${Math.max(2, (100 * l.delay_mean_us) / top)}%`;
    fill.style.background = delayColour(l.delay_p99_us, l.partitioned);
    track.append(fill);
    row.append(el('span', { class: 'label', title: `${l.from} → ${l.to}` }, `${l.from} → ${l.to}`), track,
               el('span', { class: 'num', title: 'mean, and the bucket the 99th percentile falls in' },
                  l.partitioned ? 'cut' : `${ms(l.delay_mean_us)} / ≤${ms(l.delay_p99_us)}`));
    holder.append(row);
  }
  if (!links.length) holder.append(el('div', { class: 'label' }, 'no traffic measured yet'));
}

// Each agent's figures for its row: the mean configured delay of its links to the venues too.
function agentRows() {
  const s = page.state;
  const exchanges = new Set(s.nodes.filter((n) => n.role === 'exchange').map((n) => n.id));
  return s.agents.map((a) => {
    const toVenues = s.links.filter((l) => l.from === a.id && exchanges.has(l.to));
    const latency = toVenues.length ? toVenues.reduce((sum, l) => sum + l.latency_us, 0) / toVenues.length : null;
    const orders = series(`agent/${a.id}/orders`);
    return { ...a, pnl: a.pnl_cents, position: Object.values(a.positions).reduce((x, y) => x + y, 0),
             orders: orders.length ? orders[orders.length - 1][1] : 0,
             signals: a.signals_sent + a.signals_forwarded, latency };
  });
}

function sparkline(id) {
  const canvas = el('canvas', { width: 110, height: 22 });
  const points = series(`agent/${id}/pnl_cents`).slice(-SPARK_POINTS);
  if (points.length < 2) return canvas;
  const ctx = canvas.getContext('2d');
  const values = points.map((p) => p[1]);
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const y = (v) => 20 - (18 * (v - lo)) / Math.max(1, hi - lo);
  ctx.strokeStyle = '#2a333d';
  ctx.beginPath(); ctx.moveTo(0, y(0)); ctx.lineTo(110, y(0)); ctx.stroke();
  ctx.strokeStyle = values[values.length - 1] >= 0 ? '#3fbf7f' : '#e5534b';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (110 * i) / (values.length - 1);
    i ? ctx.lineTo(x, y(v)) : ctx.moveTo(x, y(v));
  });
  ctx.stroke();
  return canvas;
}

function renderAgents(unsorted) {
  const rows = [...unsorted];
  const { key, descending } = page.sort;
  rows.sort((a, b) => {
    const x = a[key], y = b[key];
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return descending ? -order : order;
  });
  const body = $('#agents tbody');
  body.textContent = '';
  for (const a of rows) {
    const tr = el('tr', { class: `${a.up ? '' : 'down'} ${a.id === page.picked ? 'picked' : ''}`, 'data-agent': a.id });
    const spark = el('td');
    spark.append(sparkline(a.id));
    const strategy = a.adaptive_current ? `${a.strategy} (${a.adaptive_current})` : a.strategy;
    tr.append(el('td', {}, a.id), el('td', {}, strategy), el('td', {}, a.site),
              el('td', { class: `num ${a.pnl >= 0 ? 'pos' : 'neg'}` }, money(a.pnl)), spark,
              el('td', { class: 'num' }, a.position), el('td', { class: 'num' }, a.orders.toFixed(1)),
              el('td', { class: 'num' }, a.fills), el('td', { class: 'num' }, a.signals),
              el('td', { class: 'num' }, a.latency === null ? '–' : ms(a.latency)));
    tr.onclick = () => { page.picked = a.id; render(); };
    body.append(tr);
  }
  for (const th of document.querySelectorAll('#agents th[data-key]')) {
    th.classList.toggle('sorted', th.dataset.key === key);
  }
}

document.addEventListener('click', (event) => {
  const th = event.target.closest('#agents th[data-key]');
  if (!th) return;
  const key = th.dataset.key;
  page.sort = { key, descending: page.sort.key === key ? !page.sort.descending : true };
  if (page.state) renderAgents(agentRows());
});

// The picked agent's fills as points on the mid price of each venue of the symbol it trades most.
function renderFills(agent) {
  const s = page.state;
  const symbols = [...new Set(s.quotes.map((q) => q.symbol))];
  const count = (symbol) => series(`fill/${agent}/${symbol}/buy`).length + series(`fill/${agent}/${symbol}/sell`).length;
  const symbol = symbols.sort((a, b) => count(b) - count(a))[0];
  $('#fills-title').textContent = symbol ? `${agent}'s fills on ${symbol}` : '';
  if (!symbol) return;
  const t = tick(symbol);
  const venues = s.quotes.filter((q) => q.symbol === symbol).map((q) => q.venue);
  const fills = (side) => series(`fill/${agent}/${symbol}/${side}`).map(([ts, p]) => [ts, p * t]);
  const dots = (colour) => ({ stroke: colour, fill: colour, paths: () => null, points: { show: true, size: 7 } });
  chart('fills-chart', [...venues.map((v) => `${v} mid`), 'bought', 'sold'],
        align([...venues.map((v) => mids(v, symbol)), fills('buy'), fills('sell')]),
        { height: 160, format: (v) => v.toFixed(2),
          styles: [...venues.map(() => ({ width: 1 })), dots('#3fbf7f'), dots('#e5534b')] });
}

function renderEvents() {
  const list = $('#events');
  list.textContent = '';
  for (const e of [...page.events].reverse().slice(0, EVENTS_KEPT)) {
    let text = e.text;
    if (e.kind === 'trade') {
      text = `${e.buyer} bought ${e.quantity_lots} ${e.symbol} at ${(e.price_ticks * tick(e.symbol)).toFixed(2)} from ${e.seller}`;
    }
    const li = el('li', { class: e.kind });
    li.append(el('span', { class: 'when' }, new Date(e.t_ns / 1e6).toLocaleTimeString()),
              el('b', {}, `${e.node} `), document.createTextNode(text));
    list.append(li);
  }
  if (!page.events.length) list.append(el('li', { class: 'none' }, 'no events yet'));
}

function renderAnalysis(rows) {
  if (!page.picked && rows.length) page.picked = rows[0].id;
  const picked = page.picked;
  $('#analysis-agent').textContent = picked || 'pick an agent';
  if (picked) {
    const pnl = series(`agent/${picked}/pnl_cents`).map(([t, v]) => [t, v / 100]);
    const position = series(`agent/${picked}/position_lots`);
    chart('agent-chart', [`${picked} PnL`, `${picked} position (lots)`], align([pnl, position]),
          { height: 160, format: (v) => (Math.abs(v) >= 100 ? Math.round(v) : v.toFixed(2)) });
    renderFills(picked);
  }
  const byStrategy = new Map();
  for (const a of rows) {
    const e = byStrategy.get(a.strategy) || { n: 0, pnl: 0 };
    e.n += 1; e.pnl += a.pnl;
    byStrategy.set(a.strategy, e);
  }
  const sb = $('#by-strategy tbody');
  sb.textContent = '';
  for (const [strategy, e] of [...byStrategy.entries()].sort((x, y) => y[1].pnl / y[1].n - x[1].pnl / x[1].n)) {
    const mean = e.pnl / e.n;
    const tr = el('tr');
    tr.append(el('td', {}, strategy), el('td', { class: 'num' }, e.n),
              el('td', { class: `num ${mean >= 0 ? 'pos' : 'neg'}` }, money(mean)));
    sb.append(tr);
  }
  const db = $('#by-distance tbody');
  db.textContent = '';
  for (const a of [...rows].sort((x, y) => (x.latency ?? Infinity) - (y.latency ?? Infinity))) {
    const tr = el('tr');
    tr.append(el('td', {}, `${a.id} (${a.strategy})`), el('td', { class: 'num' }, a.latency === null ? '–' : ms(a.latency)),
              el('td', { class: `num ${a.pnl >= 0 ? 'pos' : 'neg'}` }, money(a.pnl)));
    db.append(tr);
  }
}

connect();

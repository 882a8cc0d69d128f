// Inline SVG: the overview's charts and the workflow graph. No library: a few elements drawn from data.
const NS = 'http://www.w3.org/2000/svg';

export function el(name, attrs = {}, ...children) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// A bar or line chart of one series over the last hour (one point per minute). points: [{at, value}].
export function chart(title, points, { kind = 'bar', cls = 'series', unit = '' } = {}) {
  const W = 360, H = 140, L = 38, B = 20, T = 22, R = 8;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: `chart ${cls}`, role: 'img', 'aria-label': title });
  svg.append(el('text', { x: 4, y: 14, class: 'chart-title' }, title));
  const now = Date.now();
  const start = now - 60 * 60 * 1000;
  const max = Math.max(1, ...points.map(p => p.value));
  const x = t => L + ((t - start) / (now - start)) * (W - L - R);
  const y = v => H - B - (v / max) * (H - B - T);
  // Axes: a baseline, the maximum, and marks every 15 minutes.
  svg.append(el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
  svg.append(el('text', { x: L - 4, y: T + 4, class: 'tick', 'text-anchor': 'end' }, fmt(max) + unit));
  svg.append(el('text', { x: L - 4, y: H - B, class: 'tick', 'text-anchor': 'end' }, '0'));
  for (let m = 60; m >= 0; m -= 15) {
    const t = now - m * 60000;
    svg.append(el('line', { x1: x(t), y1: H - B, x2: x(t), y2: H - B + 3, class: 'axis' }));
    svg.append(el('text', { x: x(t), y: H - 5, class: 'tick', 'text-anchor': 'middle' }, m === 0 ? 'now' : `-${m}m`));
  }
  const inRange = points.filter(p => new Date(p.at).getTime() >= start);
  if (inRange.length === 0) {
    svg.append(el('text', { x: (W + L) / 2, y: H / 2, class: 'tick', 'text-anchor': 'middle' }, 'no data yet'));
    return svg;
  }
  if (kind === 'bar') {
    const w = Math.max(2, (W - L - R) / 60 - 1);
    for (const p of inRange) {
      const t = new Date(p.at).getTime();
      const h = (H - B) - y(p.value);
      svg.append(el('rect', { x: x(t), y: y(p.value), width: w, height: Math.max(0, h), class: 'bar' },
        el('title', {}, `${new Date(p.at).toLocaleTimeString()}: ${fmt(p.value)}${unit}`)));
    }
  } else {
    const d = inRange.map((p, i) => `${i ? 'L' : 'M'}${x(new Date(p.at).getTime() + 30000).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    svg.append(el('path', { d, class: 'line' }));
    for (const p of inRange)
      svg.append(el('circle', { cx: x(new Date(p.at).getTime() + 30000), cy: y(p.value), r: 2, class: 'dot' },
        el('title', {}, `${new Date(p.at).toLocaleTimeString()}: ${fmt(p.value)}${unit}`)));
  }
  return svg;
}

function fmt(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k` : `${Math.round(v * 10) / 10}`;
}

// The workflow's graph: steps as nodes in columns by layer, dependencies as arrows, coloured by state.
// Each node links to its job. Returns the SVG; update(steps) recolours it in place.
export function workflowGraph(steps, onClick) {
  const NW = 150, NH = 44, GX = 70, GY = 22, PAD = 16;
  const layers = new Map();
  for (const s of steps) {
    if (!layers.has(s.layer)) layers.set(s.layer, []);
    layers.get(s.layer).push(s);
  }
  const pos = new Map();
  let rows = 0;
  for (const [layer, list] of [...layers.entries()].sort((a, b) => a[0] - b[0])) {
    list.forEach((s, i) => pos.set(s.name, { x: PAD + layer * (NW + GX), y: PAD + i * (NH + GY) }));
    rows = Math.max(rows, list.length);
  }
  const W = PAD * 2 + layers.size * (NW + GX) - GX, H = PAD * 2 + rows * (NH + GY) - GY;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'graph', role: 'img', 'aria-label': 'workflow graph' });
  const defs = el('defs', {}, el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })));
  svg.append(defs);
  for (const s of steps) {
    const to = pos.get(s.name);
    for (const dep of s.depends_on) {
      const from = pos.get(dep);
      if (!from) continue;
      const x1 = from.x + NW, y1 = from.y + NH / 2, x2 = to.x, y2 = to.y + NH / 2, mx = (x1 + x2) / 2;
      svg.append(el('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, class: 'edge', 'marker-end': 'url(#arrow)', 'data-from': dep, 'data-to': s.name }));
    }
  }
  for (const s of steps) {
    const p = pos.get(s.name);
    const g = el('g', { class: `node state-${s.state}`, transform: `translate(${p.x},${p.y})`, 'data-step': s.name, 'data-state': s.state, tabindex: 0, role: 'link' });
    g.append(el('rect', { width: NW, height: NH, rx: 8 }));
    g.append(el('text', { x: 10, y: 18, class: 'name' }, clip(s.name, 20)));
    g.append(el('text', { x: 10, y: 34, class: 'sub' }, `${s.state} · ${clip(s.type, 14)}`));
    g.append(el('title', {}, `${s.name} (${s.type}): ${s.state}`));
    g.addEventListener('click', () => onClick(s));
    g.addEventListener('keydown', e => { if (e.key === 'Enter') onClick(s); });
    svg.append(g);
  }
  svg.update = next => {
    for (const s of next) {
      const g = svg.querySelector(`g.node[data-step="${CSS.escape(s.name)}"]`);
      if (!g || g.getAttribute('data-state') === s.state) continue;
      g.setAttribute('class', `node state-${s.state}`);
      g.setAttribute('data-state', s.state);
      g.querySelector('text.sub').textContent = `${s.state} · ${clip(s.type, 14)}`;
      g.querySelector('title').textContent = `${s.name} (${s.type}): ${s.state}`;
    }
  };
  return svg;
}

function clip(text, n) {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

// SixBTC dashboard: fetches the read-only JSON endpoints and draws them; no build step.
// Every text from the server goes in through textContent: strategy names come from generators.
"use strict";

const REFRESH_MS = 1000 * Number(document.body.dataset.refreshSeconds || 5);
const SHOWN_STRATEGIES = 50;
const SOURCES = {
  status: "/ui/data/status",
  strategies: "/strategies?sort=score",
  equity: "/ui/data/equity",
  subaccounts: "/subaccounts",
  trades: "/ui/data/trades?limit=50",
  runs: "/ui/data/pipeline-runs?limit=20",
};
const PLOT_CONFIG = { displayModeBar: false, responsive: true };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const num = (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const pct = (x, digits = 1) => (x === null || x === undefined ? "–" : (100 * x).toFixed(digits) + "%");
const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) : "–");
const badge = (text, kind = text) => el("span", { class: "badge " + kind, text });
const signed = (x) => el("span", { class: x > 0 ? "pos" : x < 0 ? "neg" : "", text: num(x) });

function table(columns, rows) {
  const head = el("tr", {}, ...columns.map(([label, , cls]) => el("th", { class: cls || "", text: label })));
  const body = rows.map((row) => el("tr", {}, ...columns.map(([, cell, cls]) => {
    const value = cell(row);
    return el("td", { class: cls || "" }, value instanceof Node ? value : String(value ?? "–"));
  })));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

function fill(id, ...content) {
  document.getElementById(id).replaceChildren(...content);
}

const empty = (text) => el("p", { class: "empty", text });

function renderStatus(s) {
  const counts = Object.entries(s.strategies).map(([status, n]) => badge(`${status} ${n}`, status));
  fill("status", badge(s.status.toUpperCase(), s.status), badge(s.mode.toUpperCase(), s.mode),
    badge(`database ${s.database}`, s.database === "reachable" ? "ok" : "degraded"),
    badge(`${s.events_stored ?? "?"} events`), ...counts,
    badge(`${s.active_subaccounts} active subaccounts`, "active"), badge(`${s.open_positions} open positions`));
  document.getElementById("updated").textContent = "updated " + when(s.generated_at) + " UTC";
}

function renderStrategies(rows) {
  if (!rows.length) return fill("strategies", empty("No strategies yet: run sixbtc generate or sixbtc pipeline."));
  const shown = rows.slice(0, SHOWN_STRATEGIES);
  const note = rows.length > shown.length ? [el("p", { class: "muted small",
    text: `Best ${shown.length} of ${rows.length} by score.` })] : [];
  fill("strategies", table([
    ["Name", (r) => r.name || r.strategy_id],
    ["Status", (r) => badge(r.status)],
    ["Score", (r) => num(r.score), "num"],
    ["Rank", (r) => r.rank ?? "–", "num"],
    ["Type", (r) => r.strategy_type],
    ["Timeframe", (r) => r.timeframe],
    ["Subaccount", (r) => r.subaccount ?? "–", "num"],
    ["Validation", (r) => r.validation_status ?? "–"],
  ], shown), ...note);
}

function curveCard(curve) {
  const n = curve.subaccount;
  let card = document.getElementById(`curve-${n}`);
  if (!card) {
    card = el("div", { class: "curve", id: `curve-${n}` }, el("h3"),
      el("div", { class: "plot equity", id: `equity-${n}` }), el("div", { class: "plot drawdown", id: `drawdown-${n}` }));
  }
  card.querySelector("h3").textContent = `Subaccount ${n} · ${curve.strategy_id || "no strategy"} · equity ` +
    `${num(curve.equity)} USDC · drawdown ${pct(curve.drawdown)} (max ${pct(curve.max_drawdown)}) · ` +
    `${curve.snapshots} snapshots`;
  return card;
}

function layout(title, yTitle, extra = {}) {
  return { title: { text: title, font: { size: 13 } }, margin: { l: 55, r: 15, t: 35, b: 40 },
    xaxis: { type: "date" }, yaxis: { title: { text: yTitle }, ...extra }, showlegend: false,
    paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
}

function renderCurves(curves) {
  const holder = document.getElementById("curves");
  if (!curves.length) {
    return holder.replaceChildren(empty("No performance snapshots yet: they appear once a deployed strategy's " +
      "subaccount is checked (sixbtc run, or the scheduler)."));
  }
  let grid = holder.querySelector(".curves");
  if (!grid) { grid = el("div", { class: "curves" }); holder.replaceChildren(grid); }
  grid.replaceChildren(...curves.map(curveCard));
  for (const curve of curves) {
    const x = curve.points.map((p) => p.taken_at);
    const mode = curve.points.length > 1 ? "lines" : "lines+markers";
    Plotly.react(`equity-${curve.subaccount}`, [
      { x, y: curve.points.map((p) => p.equity), name: "equity", type: "scatter", mode,
        line: { color: "#2f6fde", width: 2 } },
      { x, y: curve.points.map((p) => p.peak_equity), name: "peak", type: "scatter", mode: "lines",
        line: { color: "#9aa5b5", width: 1, dash: "dot" } },
    ], layout("Equity", "USDC"), PLOT_CONFIG);
    Plotly.react(`drawdown-${curve.subaccount}`, [
      { x, y: curve.points.map((p) => -100 * p.drawdown), name: "drawdown", type: "scatter", mode,
        fill: "tozeroy", line: { color: "#c0392b", width: 1.5 }, fillcolor: "rgba(192,57,43,0.18)" },
    ], layout("Drawdown", "%", { rangemode: "nonpositive" }), PLOT_CONFIG);
  }
}

function renderPositions(subaccounts) {
  const rows = subaccounts.flatMap((s) => s.positions.map((p) => ({ ...p, subaccount: s.subaccount })));
  if (!rows.length) return fill("positions", empty("No open positions."));
  fill("positions", table([
    ["Subaccount", (r) => r.subaccount, "num"],
    ["Strategy", (r) => r.strategy_id],
    ["Symbol", (r) => r.symbol],
    ["Side", (r) => r.direction],
    ["Size", (r) => r.size, "num"],
    ["Entry", (r) => num(r.entry_price), "num"],
    ["Since", (r) => when(r.updated_at)],
  ], rows));
}

function renderTrades(trades) {
  if (!trades.length) return fill("trades", empty("No closed trades yet."));
  fill("trades", table([
    ["Closed", (t) => when(t.exit_time)],
    ["Subaccount", (t) => t.subaccount, "num"],
    ["Strategy", (t) => t.strategy_id],
    ["Symbol", (t) => t.symbol],
    ["Side", (t) => t.direction],
    ["Size", (t) => t.size, "num"],
    ["Entry", (t) => num(t.entry_price), "num"],
    ["Exit", (t) => num(t.exit_price), "num"],
    ["PnL", (t) => signed(t.pnl), "num"],
    ["Fees", (t) => num(t.fees, 4), "num"],
    ["Reason", (t) => t.exit_reason],
  ], trades));
}

function progressBar(fraction) {
  return el("span", { class: "progress" }, el("span", { class: "bar" },
    el("span", { style: `width: ${Math.round(100 * fraction)}%` })), " " + pct(fraction, 0));
}

function renderRuns(runs) {
  if (!runs.length) return fill("runs", empty("No pipeline runs yet: sixbtc pipeline, or POST /pipeline-runs."));
  fill("runs", table([
    ["Run", (r) => (r.run_id.length > 16 ? r.run_id.slice(0, 8) + "…" : r.run_id)],
    ["Status", (r) => badge(r.status)],
    ["Progress", (r) => progressBar(r.progress)],
    ["Stage", (r) => r.error || r.stage, "wrap"],
    ["Evaluated", (r) => `${r.evaluated}/${r.candidates}`, "num"],
    ["Passed", (r) => r.passed ?? "–", "num"],
    ["Selected", (r) => r.selected.length, "num"],
    ["Started", (r) => when(r.started_at)],
  ], runs));
}

const RENDERERS = { status: renderStatus, strategies: renderStrategies, equity: renderCurves,
  subaccounts: renderPositions, trades: renderTrades, runs: renderRuns };

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  const names = Object.keys(SOURCES);
  const results = await Promise.allSettled(names.map((name) => getJSON(SOURCES[name])));
  const failures = [];
  results.forEach((result, i) => {
    if (result.status === "rejected") return failures.push(result.reason.message);
    try { RENDERERS[names[i]](result.value); } catch (error) { failures.push(`${names[i]}: ${error.message}`); }
  });
  const banner = document.getElementById("error");
  banner.hidden = !failures.length;
  banner.textContent = failures.length ? "Could not load: " + failures.join("; ") : "";
  document.body.dataset.state = failures.length ? "error" : "ready";
}

refresh().finally(() => setInterval(refresh, REFRESH_MS));

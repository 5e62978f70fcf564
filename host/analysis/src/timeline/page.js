// Draws one build's tool runs, packed into lanes — one per slot of go's that ran tools at once, as Perfetto and cargo's
// --timings pack them — so that the first screen shows the whole build however many runs it had; one click shows one
// row per run instead, in the order they started. Every bar wide enough names its package. Above the chart the whole
// build in one strip, with the part shown boxed; a time axis to zoom (ctrl + wheel, the buttons) and pan (drag,
// shift + wheel); a filter that highlights the runs of matching packages; and the number of running tools over the
// same time range against the machine's CPUs. Only the rows in sight, and in a lane only the runs in the time range,
// are drawn, so 10,000 runs stay quick. The data is the page's JSON block; nothing is fetched.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("gohook-data").textContent);
  const RUN = { lane: 0, start: 1, dur: 2, stage: 3, pkg: 4, cpu: 5, rss: 6, critical: 7, why: 8 };
  const COLORS = { compile: "#4e79a7", asm: "#f28e2b", cgo: "#e15759", link: "#59a14f", vet: "#b07aa1",
                   cover: "#edc948", other: "#9c755f" };
  // A row's height: 16 px, less for lanes when there are more of them than the chart holds (a -p 64 build), so that
  // the first screen holds every lane; never under 4.
  const FULL_ROW = 16;
  let ROW = FULL_ROW;
  const AXIS = 22;
  const VIEW = 520;
  const wall = Math.max(data.wall_ms, 1e-3);
  const body = document.body;
  // One row per run, in the order they started; and the lanes, each its runs in the order they started (a lane's runs
  // never overlap, so their ends are in order too).
  const order = data.runs.map((_, i) => i).sort((a, b) => data.runs[a][RUN.start] - data.runs[b][RUN.start] || a - b);
  const lanes = [];
  for (const i of order) {
    const lane = data.runs[i][RUN.lane];
    while (lanes.length <= lane) {
      lanes.push([]);
    }
    lanes[lane].push(i);
  }
  let mode = "lanes";
  const rowCount = () => (mode === "lanes" ? lanes.length : order.length);
  function setMode(to) {
    mode = to;
    const fits = Math.floor((VIEW - AXIS - 2) / Math.max(rowCount(), 1));
    ROW = mode === "lanes" ? Math.max(4, Math.min(FULL_ROW, fits)) : FULL_ROW;
  }
  // The runs of a row that overlap the time range [from, to].
  function runsOf(row, from, to) {
    if (mode === "runs") {
      const i = order[row];
      const run = data.runs[i];
      return run[RUN.start] <= to && run[RUN.start] + run[RUN.dur] >= from ? [i] : [];
    }
    const lane = lanes[row];
    let low = 0;
    let high = lane.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const run = data.runs[lane[middle]];
      if (run[RUN.start] + run[RUN.dur] < from) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    const found = [];
    for (let k = low; k < lane.length && data.runs[lane[k]][RUN.start] <= to; k++) {
      found.push(lane[k]);
    }
    return found;
  }
  // The row a run is drawn on.
  const position = new Array(order.length);
  order.forEach((i, k) => { position[i] = k; });
  const rowOf = (i) => (mode === "lanes" ? data.runs[i][RUN.lane] : position[i]);
  const view = { from: 0, to: wall };
  let query = "";
  let matching = null;

  const scroller = document.getElementById("gantt-scroll");
  const gantt = document.getElementById("gantt");
  const spacer = document.getElementById("gantt-spacer");
  const tip = document.getElementById("tooltip");
  const search = document.getElementById("search");

  // One unit for a whole axis, chosen by the visible span: s, ms or µs.
  function unitFor(span) {
    return span >= 10000 ? { name: "s", per: 1000 } : span >= 10 ? { name: "ms", per: 1 } : { name: "µs", per: 0.001 };
  }

  function duration(ms) {
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms >= 1 ? ms.toFixed(1) + " ms" : (ms * 1000).toFixed(0) + " µs";
  }

  // A canvas of the given size, sharp on high-density screens.
  function prepare(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.font = "11px system-ui, sans-serif";
    return context;
  }

  function xOf(ms, width) {
    return ((ms - view.from) / (view.to - view.from)) * (width - 1);
  }

  function axis(context, width, height) {
    const span = view.to - view.from;
    const unit = unitFor(span);
    const rough = span / 8;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
    const decimals = Math.max(0, -Math.floor(Math.log10(step / unit.per) + 1e-9));
    context.fillStyle = "#666";
    context.strokeStyle = "#eee";
    for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      const x = xOf(t, width);
      context.beginPath();
      context.moveTo(x + 0.5, AXIS - 6);
      context.lineTo(x + 0.5, height);
      context.stroke();
      context.fillText((t / unit.per).toFixed(decimals) + " " + unit.name, Math.min(x + 2, width - 56), 12);
    }
  }

  function name(run) {
    return data.packages[run[RUN.pkg]];
  }

  function drawGantt() {
    const width = scroller.clientWidth;
    const rowsHeight = AXIS + rowCount() * ROW + 2;
    const height = Math.min(VIEW, rowsHeight);
    spacer.style.height = Math.max(0, rowsHeight - height) + "px";
    const context = prepare(gantt, width, height);
    const first = Math.floor(scroller.scrollTop / ROW);
    const last = Math.min(rowCount(), first + Math.ceil((height - AXIS) / ROW) + 1);
    const offset = scroller.scrollTop - first * ROW;
    context.save();
    context.beginPath();
    context.rect(0, AXIS, width, height - AXIS);
    context.clip();
    let labelled = 0;
    let drawn = 0;
    let drawnFrom = Infinity;
    let drawnTo = -Infinity;
    for (let row = first; row < last; row++) {
      const y = AXIS + (row - first) * ROW - offset;
      for (const i of runsOf(row, view.from, view.to)) {
        const run = data.runs[i];
        const x0 = xOf(run[RUN.start], width);
        const x1 = xOf(run[RUN.start] + run[RUN.dur], width);
        const x = Math.max(x0, 0);
        const w = Math.max(1, Math.min(x1, width) - x);
        context.globalAlpha = matching && !matching.has(i) ? 0.15 : 1;
        context.fillStyle = COLORS[data.stages[run[RUN.stage]]] || COLORS.other;
        context.fillRect(x, y + 1, w, Math.max(1, ROW - 3));
        if (run[RUN.critical]) {
          context.strokeStyle = "#d62728";
          context.lineWidth = ROW >= 12 ? 2 : 1;
          context.strokeRect(x + 1, y + 2, Math.max(1, w - 2), Math.max(1, ROW - 5));
        }
        const label = name(run);
        if (ROW >= 12 && w > context.measureText(label).width + 8) {
          context.fillStyle = "#fff";
          context.fillText(label, x + 4, y + ROW - 5);
          labelled++;
        }
        drawn++;
        drawnFrom = Math.min(drawnFrom, run[RUN.start]);
        drawnTo = Math.max(drawnTo, run[RUN.start] + run[RUN.dur]);
      }
    }
    context.restore();
    context.globalAlpha = 1;
    axis(context, width, height);
    body.dataset.viewMode = mode;
    body.dataset.rows = String(rowCount());
    body.dataset.drawnBars = String(drawn);
    body.dataset.labelledBars = String(labelled);
    body.dataset.drawnFromMs = drawn ? drawnFrom.toFixed(3) : "";
    body.dataset.drawnToMs = drawn ? drawnTo.toFixed(3) : "";
    body.dataset.viewStartMs = view.from.toFixed(3);
    body.dataset.viewEndMs = view.to.toFixed(3);
    const unit = unitFor(view.to - view.from);
    const inUnit = (ms) => (ms / unit.per).toFixed(ms / unit.per >= 100 ? 0 : 1);
    document.getElementById("range").textContent =
      "showing " + inUnit(view.from) + " to " + inUnit(view.to) + " " + unit.name + " of " + duration(wall);
  }

  // Running tools over time, from the runs' starts and ends, with the machine's CPUs as a dashed line.
  const changes = [];
  for (const run of data.runs) {
    changes.push([run[RUN.start], 1], [run[RUN.start] + run[RUN.dur], -1]);
  }
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const steps = [[0, 0]];
  let peak = 0;
  for (let i = 0, running = 0; i < changes.length; i++) {
    running += changes[i][1];
    peak = Math.max(peak, running);
    steps.push([changes[i][0], running]);
  }

  // The whole build at a glance: every run as a line at its row (scaled to the strip's height), and the part the
  // chart shows as a box; a click there shows those rows and, when zoomed in, that time.
  const overview = document.getElementById("overview");
  const OVERVIEW = 64;

  function drawOverview() {
    const width = overview.parentElement.clientWidth;
    const context = prepare(overview, width, OVERVIEW);
    const perRow = (OVERVIEW - 4) / Math.max(rowCount(), 1);
    const x = (ms) => (ms / wall) * (width - 1);
    data.runs.forEach((run, i) => {
      context.globalAlpha = matching && !matching.has(i) ? 0.12 : 1;
      context.fillStyle = run[RUN.critical] ? "#d62728" : COLORS[data.stages[run[RUN.stage]]] || COLORS.other;
      context.fillRect(x(run[RUN.start]), 2 + rowOf(i) * perRow, Math.max(1, x(run[RUN.dur])), Math.max(1, perRow));
    });
    context.globalAlpha = 1;
    const first = scroller.scrollTop / ROW;
    const shown = (Math.min(VIEW, gantt.clientHeight || VIEW) - AXIS) / ROW;
    context.strokeStyle = "#222";
    context.lineWidth = 1;
    context.strokeRect(x(view.from) + 0.5, 1 + first * perRow, Math.max(3, x(view.to) - x(view.from) - 1),
                       Math.max(3, Math.min(shown, rowCount()) * perRow));
  }

  overview.addEventListener("click", (event) => {
    const box = overview.getBoundingClientRect();
    const row = Math.floor(((event.clientY - box.top - 2) / (OVERVIEW - 4)) * rowCount());
    scroller.scrollTop = Math.max(0, row * ROW - ROW);
    const at = ((event.clientX - box.left) / box.width) * wall;
    const span = view.to - view.from;
    if (span < wall) {
      show(at - span / 2, at + span / 2);
    } else {
      draw();
    }
  });

  function drawConcurrency() {
    const canvas = document.getElementById("concurrency");
    const width = canvas.parentElement.clientWidth;
    const height = 150;
    const left = 34;
    const context = prepare(canvas, width, height);
    const top = Math.max(peak, data.cpus || 0, 1);
    const y = (n) => height - 4 - (n / top) * (height - AXIS - 8);
    const x = (ms) => left + xOf(ms, width - left);
    context.fillStyle = "#666";
    context.strokeStyle = "#eee";
    for (const n of new Set([0, Math.round(top / 2), top])) {
      context.beginPath();
      context.moveTo(left, y(n) + 0.5);
      context.lineTo(width, y(n) + 0.5);
      context.stroke();
      context.fillText(String(n), 4, y(n) + 4);
    }
    context.save();
    context.translate(left, 0);
    axis(context, width - left, height);
    context.restore();
    context.save();
    context.beginPath();
    context.rect(left, AXIS, width - left, height - AXIS);
    context.clip();
    context.fillStyle = "rgba(78, 121, 167, 0.35)";
    context.strokeStyle = "#4e79a7";
    context.beginPath();
    context.moveTo(x(0), y(0));
    let previous = 0;
    for (const [at, n] of steps) {
      context.lineTo(x(at), y(previous));
      context.lineTo(x(at), y(n));
      previous = n;
    }
    context.lineTo(width, y(previous));
    context.lineTo(width, y(0));
    context.fill();
    context.stroke();
    context.restore();
    if (data.cpus) {
      context.setLineDash([5, 4]);
      context.strokeStyle = "#d62728";
      context.beginPath();
      context.moveTo(left, y(data.cpus) + 0.5);
      context.lineTo(width, y(data.cpus) + 0.5);
      context.stroke();
      context.setLineDash([]);
      context.fillStyle = "#d62728";
      context.fillText(data.cpus + " CPUs", width - 60, y(data.cpus) - 4);
    }
    document.getElementById("peak").textContent = "At most " + peak + " tools ran at once.";
    body.dataset.peakRunning = String(peak);
  }

  function draw() {
    drawGantt();
    drawOverview();
    drawConcurrency();
  }

  // The visible range, kept inside the build and never narrower than a microsecond. The rows follow it: when none
  // of the rows in sight ran in the range, the first run that did is brought to the top.
  function show(from, to) {
    const span = Math.min(wall, Math.max(to - from, 1e-3));
    from = Math.min(Math.max(from, 0), wall - span);
    view.from = from;
    view.to = from + span;
    const inRange = (row) => runsOf(row, view.from, view.to).length > 0;
    const first = Math.floor(scroller.scrollTop / ROW);
    const visible = Math.min(rowCount(), first + Math.ceil((VIEW - AXIS) / ROW));
    let anyInSight = false;
    for (let row = first; row < visible && !anyInSight; row++) {
      anyInSight = inRange(row);
    }
    if (!anyInSight) {
      for (let row = 0; row < rowCount(); row++) {
        if (inRange(row)) {
          scroller.scrollTop = row * ROW;
          break;
        }
      }
    }
    draw();
  }

  function zoom(factor, aroundMs) {
    const at = aroundMs === undefined ? (view.from + view.to) / 2 : aroundMs;
    show(at - (at - view.from) * factor, at + (view.to - at) * factor);
  }

  function msAt(clientX) {
    const box = gantt.getBoundingClientRect();
    return view.from + ((clientX - box.left) / box.width) * (view.to - view.from);
  }

  function filter(text) {
    query = text.trim().toLowerCase();
    matching = null;
    let count = 0;
    if (query) {
      matching = new Set();
      data.runs.forEach((run, i) => {
        if (name(run).toLowerCase().includes(query)) {
          matching.add(i);
        }
      });
      count = matching.size;
      // Bring the first match into view.
      const firstMatch = order.find((i) => matching.has(i));
      const row = firstMatch === undefined ? -1 : rowOf(firstMatch);
      if (row >= 0 && (row * ROW < scroller.scrollTop || row * ROW > scroller.scrollTop + VIEW - AXIS - ROW)) {
        scroller.scrollTop = Math.max(0, row * ROW - ROW);
      }
    }
    body.dataset.matchingRuns = String(count);
    document.getElementById("matches").textContent = query ? count + (count === 1 ? " run matches" : " runs match") : "";
    drawGantt();
    drawOverview();
  }

  function runAt(event) {
    const box = gantt.getBoundingClientRect();
    const y = event.clientY - box.top;
    if (y < AXIS) {
      return null;
    }
    const row = Math.floor((y - AXIS + scroller.scrollTop) / ROW);
    if (row < 0 || row >= rowCount()) {
      return null;
    }
    const ms = msAt(event.clientX);
    const slack = (3 / box.width) * (view.to - view.from);
    const near = runsOf(row, ms - slack, ms + slack);
    return near.length ? data.runs[near[0]] : null;
  }

  let dragging = null;
  gantt.addEventListener("mousedown", (event) => {
    dragging = { x: event.clientX, from: view.from, to: view.to };
  });
  window.addEventListener("mouseup", () => { dragging = null; });
  gantt.addEventListener("mousemove", (event) => {
    if (dragging) {
      const perPixel = (dragging.to - dragging.from) / gantt.getBoundingClientRect().width;
      const shift = (dragging.x - event.clientX) * perPixel;
      show(dragging.from + shift, dragging.to + shift);
      return;
    }
    const run = runAt(event);
    if (!run) {
      tip.style.display = "none";
      return;
    }
    tip.textContent = data.stages[run[RUN.stage]] + " " + name(run) + ": " + duration(run[RUN.dur]) +
      " wall, " + duration(run[RUN.cpu]) + " cpu, " + run[RUN.rss].toFixed(0) + " MiB, started at " +
      duration(run[RUN.start]) + (run[RUN.critical] ? " · on the critical path" : "") +
      (run[RUN.why] !== null && run[RUN.why] !== undefined ? " · why it ran: " + data.notes[run[RUN.why]] : "");
    tip.style.display = "block";
    const box = gantt.getBoundingClientRect();
    tip.style.left = Math.min(event.clientX - box.left + 12, box.width - tip.offsetWidth - 4) + "px";
    tip.style.top = event.clientY - box.top + scroller.offsetTop + 14 + "px";
  });
  gantt.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  gantt.addEventListener("wheel", (event) => {
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      zoom(Math.exp(event.deltaY / 300), msAt(event.clientX));
    } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      event.preventDefault();
      const box = gantt.getBoundingClientRect();
      const shift = ((event.deltaX || event.deltaY) / box.width) * (view.to - view.from);
      show(view.from + shift, view.to + shift);
    }
  }, { passive: false });
  scroller.addEventListener("scroll", () => {
    drawGantt();
    drawOverview();
  });
  document.getElementById("zoom-in").addEventListener("click", () => zoom(0.5));
  document.getElementById("zoom-out").addEventListener("click", () => zoom(2));
  document.getElementById("zoom-reset").addEventListener("click", () => show(0, wall));
  const modeButton = document.getElementById("view-mode");
  modeButton.addEventListener("click", () => {
    setMode(mode === "lanes" ? "runs" : "lanes");
    modeButton.textContent = mode === "lanes" ? "one row per run" : "lanes";
    scroller.scrollTop = 0;
    draw();
  });
  search.addEventListener("input", () => filter(search.value));
  window.addEventListener("resize", draw);

  const started = performance.now();
  setMode("lanes");
  draw();
  filter(search.value);
  body.dataset.drawMs = (performance.now() - started).toFixed(1);
  body.dataset.toolRuns = String(data.runs.length);
  // The browser's own log of what the page loaded besides itself: nothing, if the page is self-contained.
  body.dataset.resources = String(performance.getEntriesByType("resource").length);
})();

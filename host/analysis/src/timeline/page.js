// Draws the tool runs of one build on canvases: a lane per concurrently running tool, and the number of running tools
// over time against the machine's CPUs. The data is the JSON block the page carries; nothing is fetched.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("gohook-data").textContent);
  const RUN = { lane: 0, start: 1, dur: 2, stage: 3, pkg: 4, cpu: 5, rss: 6, critical: 7 };
  const COLORS = { compile: "#4e79a7", asm: "#f28e2b", cgo: "#e15759", link: "#59a14f", vet: "#b07aa1",
                   cover: "#edc948", other: "#9c755f" };
  const AXIS = 20;
  const lanes = data.runs.reduce((most, r) => Math.max(most, r[RUN.lane] + 1), 0);
  const laneHeight = lanes > 64 ? 4 : lanes > 24 ? 8 : 14;
  const wall = Math.max(data.wall_ms, 1e-3);

  function duration(ms) {
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms >= 1 ? ms.toFixed(1) + " ms" : (ms * 1000).toFixed(0) + " µs";
  }

  // A canvas sized to its container's width, sharp on high-density screens.
  function prepare(canvas, height) {
    const width = canvas.parentElement.clientWidth;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const context = canvas.getContext("2d");
    context.scale(ratio, ratio);
    return { context, width };
  }

  function ticks(context, width, height) {
    const rough = wall / 8;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
    context.fillStyle = "#666";
    context.strokeStyle = "#eee";
    context.font = "11px system-ui, sans-serif";
    for (let t = 0; t <= wall; t += step) {
      const x = (t / wall) * (width - 1);
      context.beginPath();
      context.moveTo(x + 0.5, AXIS - 4);
      context.lineTo(x + 0.5, height);
      context.stroke();
      context.fillText(duration(t), Math.min(x + 2, width - 50), 12);
    }
  }

  function drawGantt() {
    const canvas = document.getElementById("gantt");
    const { context, width } = prepare(canvas, AXIS + lanes * laneHeight + 2);
    ticks(context, width, AXIS + lanes * laneHeight);
    const scale = (width - 1) / wall;
    let drawn = 0;
    for (const run of data.runs) {
      const x = run[RUN.start] * scale;
      const w = Math.max(1, run[RUN.dur] * scale);
      context.fillStyle = COLORS[data.stages[run[RUN.stage]]] || COLORS.other;
      context.fillRect(x, AXIS + run[RUN.lane] * laneHeight, w, laneHeight - 1);
      drawn++;
    }
    context.strokeStyle = "#d62728";
    context.lineWidth = laneHeight > 4 ? 2 : 1;
    for (const run of data.runs) {
      if (run[RUN.critical]) {
        const x = run[RUN.start] * scale;
        context.strokeRect(x, AXIS + run[RUN.lane] * laneHeight, Math.max(1, run[RUN.dur] * scale), laneHeight - 1);
      }
    }
    return drawn;
  }

  // Running tools over time, from the runs' starts and ends, with the machine's CPUs as a dashed line.
  function drawConcurrency() {
    const canvas = document.getElementById("concurrency");
    const height = 140;
    const { context, width } = prepare(canvas, height);
    ticks(context, width, height);
    const changes = [];
    for (const run of data.runs) {
      changes.push([run[RUN.start], 1], [run[RUN.start] + run[RUN.dur], -1]);
    }
    changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    const steps = [[0, 0]];
    for (const [at, change] of changes) {
      running += change;
      peak = Math.max(peak, running);
      steps.push([at, running]);
    }
    const top = Math.max(peak, data.cpus || 0, 1);
    const y = (n) => height - 2 - (n / top) * (height - AXIS - 6);
    context.fillStyle = "rgba(78, 121, 167, 0.35)";
    context.strokeStyle = "#4e79a7";
    context.beginPath();
    context.moveTo(0, y(0));
    let previous = 0;
    for (const [at, n] of steps) {
      const x = (at / wall) * (width - 1);
      context.lineTo(x, y(previous));
      context.lineTo(x, y(n));
      previous = n;
    }
    context.lineTo(width, y(previous));
    context.lineTo(width, y(0));
    context.fill();
    context.stroke();
    if (data.cpus) {
      context.setLineDash([5, 4]);
      context.strokeStyle = "#d62728";
      context.beginPath();
      context.moveTo(0, y(data.cpus) + 0.5);
      context.lineTo(width, y(data.cpus) + 0.5);
      context.stroke();
      context.setLineDash([]);
      context.fillStyle = "#d62728";
      context.fillText(data.cpus + " CPUs", width - 60, y(data.cpus) - 4);
    }
    document.getElementById("peak").textContent = "At most " + peak + " tools ran at once.";
    document.body.dataset.peakRunning = String(peak);
  }

  function tooltip() {
    const canvas = document.getElementById("gantt");
    const tip = document.getElementById("tooltip");
    canvas.addEventListener("mousemove", (event) => {
      const box = canvas.getBoundingClientRect();
      const lane = Math.floor((event.clientY - box.top - AXIS) / laneHeight);
      const ms = ((event.clientX - box.left) / box.width) * wall;
      const slack = (3 / box.width) * wall;
      const run = data.runs.find((r) => r[RUN.lane] === lane && r[RUN.start] - slack <= ms && ms <= r[RUN.start] + r[RUN.dur] + slack);
      if (!run) {
        tip.style.display = "none";
        return;
      }
      tip.textContent = data.stages[run[RUN.stage]] + " " + data.packages[run[RUN.pkg]] + ": " + duration(run[RUN.dur]) +
        " wall, " + duration(run[RUN.cpu]) + " cpu, " + run[RUN.rss].toFixed(0) + " MiB" +
        (run[RUN.critical] ? " · on the critical path" : "");
      tip.style.display = "block";
      tip.style.left = Math.min(event.clientX - box.left + 12, box.width - tip.offsetWidth - 4) + "px";
      tip.style.top = event.clientY - box.top + 14 + "px";
    });
    canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }

  function draw() {
    document.body.dataset.drawnBars = String(drawGantt());
    drawConcurrency();
  }

  draw();
  tooltip();
  window.addEventListener("resize", draw);
  document.body.dataset.toolRuns = String(data.runs.length);
  // The browser's own log of what the page loaded besides itself: nothing, if the page is self-contained.
  document.body.dataset.resources = String(performance.getEntriesByType("resource").length);
})();

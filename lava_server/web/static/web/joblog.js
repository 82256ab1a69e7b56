// The job page's live log: the tail first, earlier lines on demand, new lines
// as the job writes them, level filters and #L<n> line anchors.
(function () {
  "use strict";
  const box = document.getElementById("log");
  if (!box) return;
  const url = box.dataset.url;
  const CHUNK = 1000;
  const POLL_MS = 1000;
  const follow = document.getElementById("log-follow");
  const earlier = document.getElementById("log-earlier");
  const later = document.getElementById("log-later");
  const count = document.getElementById("log-count");
  const status = document.getElementById("log-status");
  let first = 0;   // 0-based index of the first line shown
  let next = 0;    // 0-based index after the last line shown
  let total = 0;
  let state = box.dataset.state;
  let finished = box.dataset.finished === "true";
  let timer = null;

  async function fetchRange(start, end) {
    const query = new URLSearchParams();
    if (start !== null) query.set("start", start);
    if (end !== null) query.set("end", end);
    const response = await fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("log request failed: HTTP " + response.status);
    return response.json();
  }

  function messageText(lvl, msg) {
    if (typeof msg === "string") return msg;
    if (lvl === "results" && msg && typeof msg === "object") {
      const extra = msg.measurement !== undefined ? " " + msg.measurement + (msg.units ? " " + msg.units : "") : "";
      return msg.definition + "." + msg.case + ": " + msg.result + extra;
    }
    return JSON.stringify(msg);
  }

  function lineElement(record) {
    const [number, dt, lvl, msg] = record;
    const row = document.createElement("div");
    row.className = "line lvl-" + (lvl || "unknown");
    row.id = "L" + number;
    const anchor = document.createElement("a");
    anchor.className = "ln";
    anchor.href = "#L" + number;
    anchor.textContent = number;
    const time = document.createElement("span");
    time.className = "ts";
    time.textContent = typeof dt === "string" ? dt.slice(11, 19) : "";
    time.title = dt || "";
    const text = document.createElement("span");
    text.className = "msg";
    text.textContent = messageText(lvl, msg);
    row.append(anchor, time, text);
    return row;
  }

  function fragment(records) {
    const part = document.createDocumentFragment();
    for (const record of records) part.append(lineElement(record));
    return part;
  }

  function showCounts() {
    count.textContent = total.toLocaleString() + " lines" + (first > 0 ? " (from line " + (first + 1).toLocaleString() + ")" : "");
    earlier.hidden = first === 0;
    later.hidden = total - next <= CHUNK || next >= total;
  }

  function atBottom() {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }

  function append(data) {
    const stick = follow.checked;
    box.append(fragment(data.records));
    next = data.end;
    total = data.total;
    if (stick) box.scrollTop = box.scrollHeight;
  }

  function showEnd(data) {
    status.textContent = "The job finished: " + data.health + "." + (total === 0 ? " It wrote no log." : "");
  }

  function noteState(data) {
    const changed = data.state !== state || (data.finished && !finished);
    state = data.state;
    finished = data.finished;
    if (finished && next >= total) showEnd(data);
    if (changed) refreshSections();
  }

  // the summary parts of the page follow the job too: status, outcome, timings, results
  async function refreshSections() {
    try {
      const response = await fetch(location.pathname, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["job-status", "actions", "outcome", "details", "timings", "results"]) {
        const fresh = page.getElementById(id);
        const old = document.getElementById(id);
        if (fresh && old) old.replaceWith(fresh);
      }
    } catch (error) {
      console.warn(error);
    }
  }

  async function poll() {
    timer = null;
    try {
      const data = await fetchRange(next, null);
      append(data);
      showCounts();
      noteState(data);
    } catch (error) {
      status.textContent = "Could not read the log (" + error.message + "); retrying.";
    }
    if (!(finished && next >= total)) schedulePoll();
  }

  function schedulePoll() {
    if (timer !== null) return;
    // far behind the end (reading an old part of a big log): stop following until asked
    if (total - next > CHUNK) return;
    timer = setTimeout(poll, next < total ? 0 : POLL_MS);
  }

  function highlight(hash) {
    const match = /^#L(\d+)$/.exec(hash);
    if (!match) return false;
    const row = document.getElementById("L" + match[1]);
    if (!row) return false;
    for (const old of box.querySelectorAll(".line.target")) old.classList.remove("target");
    row.classList.add("target");
    follow.checked = false;
    box.scrollTop = row.offsetTop - box.clientHeight / 3;  // .log is position: relative
    return true;
  }

  async function load(hash) {
    const match = /^#L(\d+)$/.exec(hash || "");
    const wanted = match ? Math.max(0, Number(match[1]) - 1) : null;
    const data = wanted === null ? await fetchRange(null, null) : await fetchRange(Math.max(0, wanted - CHUNK / 2), null);
    box.replaceChildren();
    first = data.start;
    next = data.start;
    append(data);
    showCounts();
    if (wanted !== null) highlight(hash);
    noteState(data);
    if (finished && next >= total) showEnd(data);
    else schedulePoll();
  }

  earlier.addEventListener("click", async function () {
    const start = Math.max(0, first - CHUNK);
    const data = await fetchRange(start, first);
    const before = box.scrollHeight;
    box.prepend(fragment(data.records));
    box.scrollTop += box.scrollHeight - before;  // keep the lines being read in place
    first = start;
    showCounts();
  });

  later.addEventListener("click", async function () {
    const data = await fetchRange(next, next + CHUNK);
    follow.checked = false;
    append(data);
    showCounts();
    schedulePoll();
  });

  box.addEventListener("scroll", function () {
    follow.checked = atBottom();
  });

  follow.addEventListener("change", function () {
    if (follow.checked) box.scrollTop = box.scrollHeight;
  });

  for (const input of document.querySelectorAll("#log-levels input")) {
    input.addEventListener("change", function () {
      box.classList.toggle("hide-" + input.value, !input.checked);
    });
  }

  window.addEventListener("hashchange", function () {
    if (!highlight(location.hash) && /^#L\d+$/.test(location.hash)) load(location.hash);
  });

  load(location.hash).catch(function (error) {
    status.textContent = "Could not read the log: " + error.message;
  });
})();

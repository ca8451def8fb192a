// The pages' behaviour, served as /assets/app.js: the Content-Security-Policy allows scripts
// from this server only, so no page carries inline script or event-handler attributes. Each
// part looks for the elements it works on and does nothing on pages without them.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function kb(n) {
    return n < 1024 ? n + " 字节" : (n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB");
  }

  // Progress of a background job (caseload import, feed upload, verification run): the element
  // with data-progress-url is polled until the job is done or failed.
  function progress(box) {
    var url = box.getAttribute("data-progress-url");
    var sizes = box.getAttribute("data-progress-kind") === "bytes";
    function poll() {
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        if (s.error) { byId("msg").textContent = s.error.message; return; }
        byId("msg").textContent = s.message;
        byId("bar").style.width = s.percent + "%";
        var counts = s.total ? (sizes ? "(已读 " + kb(s.done) + " / " + kb(s.total) + ")" : "(" + s.done + "/" + s.total + ")") : "";
        byId("pct").textContent = s.percent + "%" + counts;
        if (s.phase === "failed") {
          var box = byId("errors"), list = byId("errlist");
          if (box && list && s.errors) {
            box.style.display = s.errors.length ? "block" : "none";
            list.innerHTML = s.errors.map(function (e) {
              return "<li>" + (e.row ? "第" + e.row + "行 " : "") + esc(e.field) + ":" + esc(e.message) + "</li>";
            }).join("");
          }
          byId("bar").style.background = "#c81e1e";
          return;
        }
        if (s.phase === "done") {
          if (s.link && byId("link")) { byId("link").href = s.link; byId("done").style.display = "block"; }
          return;
        }
        setTimeout(poll, 500);
      }).catch(function () { setTimeout(poll, 1500); });
    }
    poll();
  }

  // 先测算影响 on a region's policy page: the what-if of the revision being entered.
  function whatifFirst(button) {
    button.addEventListener("click", function () {
      var f = byId("revision-form");
      var d = f.elements["effective_from"].value;
      var q = new URLSearchParams({
        changes: f.elements["param"].value + "=" + f.elements["value"].value,
        from: d, region: button.getAttribute("data-region"), month: d ? d.substring(0, 7) : ""
      });
      window.location.href = "/whatif?" + q.toString();
    });
  }

  function ready() {
    var box = document.querySelector("[data-progress-url]");
    if (box) { progress(box); }
    var w = byId("whatif-first");
    if (w) { whatifFirst(w); }
    // 全选: a checkbox that ticks every checkbox of the name it names.
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      all.addEventListener("click", function () {
        var name = all.getAttribute("data-select-all");
        document.querySelectorAll("input[name='" + name + "']").forEach(function (c) { c.checked = all.checked; });
      });
    });
    // 返回上一页 on the error page (a javascript: link would be blocked by the CSP).
    document.querySelectorAll("a[data-back]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
      });
    });
    document.querySelectorAll("button[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();

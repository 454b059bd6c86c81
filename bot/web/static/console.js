// Live inbox: a server-sent event "change" makes htmx reload the queue and the transcript.
(function () {
  var el = document.querySelector("[data-sse]");
  if (!el || !window.EventSource) { return; }
  var source = new EventSource(el.getAttribute("data-sse"));
  source.addEventListener("change", function () {
    if (window.htmx) { window.htmx.trigger(document.body, "inbox-changed"); }
  });
})();

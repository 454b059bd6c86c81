// Live inbox: a server-sent event "change" makes htmx reload the queue and the transcript.
(function () {
  var el = document.querySelector("[data-sse]");
  if (!el || !window.EventSource) { return; }
  var source = new EventSource(el.getAttribute("data-sse"));
  source.addEventListener("change", function () {
    if (window.htmx) { window.htmx.trigger(document.body, "inbox-changed"); }
  });
})();

// Guide editor: a field's error message is about the value that was saved; once the editor
// changes that value the message is out of date, so it is hidden (the next save checks again).
document.addEventListener("input", function (event) {
  var field = event.target;
  if (!field || !field.getAttribute || field.getAttribute("aria-invalid") !== "true") { return; }
  field.removeAttribute("aria-invalid");
  var errors = document.getElementById(field.id + "-loi");
  if (errors) { errors.hidden = true; }
});

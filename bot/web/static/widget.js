/* Web chat widget for a commune's portal. One tag puts a chat button and panel on any page:
 *
 *   <script src="https://bot.example.vn/widget.js" data-title="Hỏi đáp thủ tục" async></script>
 *
 * ES5 only, no framework, no build: it must run on old Android browsers. Nothing is lost or
 * repeated over a bad network: the session token and the messages not yet accepted by the server
 * live in localStorage (resent with the same client id until the server has them; the server
 * dedups by that id), and replies are fetched by sequence number ("everything after N"), each
 * shown once. Text is always inserted as text (never as HTML).
 */
(function () {
  "use strict";
  if (window.__thutucChat) { return; }
  window.__thutucChat = true;

  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/widget\.js(\?|$)/.test(all[i].src)) { return all[i]; }
    }
    return null;
  })();
  if (!script) { return; }
  var base = script.getAttribute("data-server") || script.src.replace(/\/widget\.js(\?.*)?$/, "");
  var title = script.getAttribute("data-title") || "Hỏi đáp thủ tục hành chính";
  var privacyUrl = script.getAttribute("data-privacy") || base + "/chat/privacy";
  var WAIT = parseInt(script.getAttribute("data-wait") || "25", 10);
  var KEY = "thutucChat:" + base;

  // --- storage (localStorage may be missing or full: then memory only) -----------------------
  var memory = {};
  function load(name, fallback) {
    var raw = null;
    try { raw = window.localStorage.getItem(KEY + ":" + name); } catch (e) { raw = memory[name]; }
    if (raw === null || raw === undefined) { raw = memory[name]; }
    if (raw === null || raw === undefined) { return fallback; }
    try { return JSON.parse(raw); } catch (e2) { return fallback; }
  }
  function save(name, value) {
    var raw = JSON.stringify(value);
    memory[name] = raw;
    try { window.localStorage.setItem(KEY + ":" + name, raw); } catch (e) { /* memory only */ }
  }

  var session = load("session", null);
  var pending = load("pending", []); // [{id, text, button, label}] not yet accepted
  var last = 0;
  var seen = {};
  var online = true;
  var opened = false;
  var started = false;

  // --- DOM --------------------------------------------------------------------------------------
  var css = [
    ".tt-chat, .tt-chat * { box-sizing: border-box; font-family: Arial, Helvetica, sans-serif; }",
    ".tt-open { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000;",
    "  font-size: 20px; font-weight: bold; padding: 14px 20px; min-height: 56px;",
    "  color: #fff; background: #0a4a85; border: 3px solid #fff; border-radius: 28px;",
    "  box-shadow: 0 2px 8px rgba(0,0,0,.35); cursor: pointer; }",
    ".tt-open:focus, .tt-chat button:focus, .tt-chat input:focus, .tt-chat a:focus {",
    "  outline: 3px solid #f5a300; outline-offset: 2px; }",
    ".tt-panel { position: fixed; right: 16px; bottom: 16px; z-index: 2147483001;",
    "  width: 400px; height: 600px; max-height: 90%; background: #fff; color: #1a1a1a;",
    "  border: 1px solid #666; border-radius: 8px; box-shadow: 0 4px 16px rgba(0,0,0,.35);",
    "  display: none; font-size: 19px; line-height: 1.45; }",
    ".tt-panel.tt-shown { display: block; }",
    "@media (max-width: 600px) { .tt-panel { right: 0; bottom: 0; left: 0; top: 0;",
    "  width: auto; height: auto; max-height: none; border-radius: 0; } }",
    ".tt-head { position: absolute; top: 0; left: 0; right: 0; height: 56px; padding: 0 64px 0 14px;",
    "  background: #0a4a85; color: #fff; font-size: 20px; font-weight: bold; line-height: 56px;",
    "  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }",
    ".tt-close { position: absolute; top: 4px; right: 4px; width: 48px; height: 48px;",
    "  font-size: 26px; color: #fff; background: transparent; border: 0; cursor: pointer; }",
    ".tt-note { position: absolute; top: 56px; left: 0; right: 0; padding: 6px 14px;",
    "  font-size: 16px; background: #fff8e1; color: #1a1a1a; border-bottom: 1px solid #ccc; }",
    ".tt-note a { color: #0a4a85; text-decoration: underline; }",
    ".tt-log { position: absolute; top: 112px; left: 0; right: 0; bottom: 76px;",
    "  overflow-y: auto; -webkit-overflow-scrolling: touch; padding: 10px; background: #f4f6f8; }",
    ".tt-msg { margin: 8px 0; padding: 10px 12px; border-radius: 10px; max-width: 88%;",
    "  white-space: pre-wrap; word-wrap: break-word; }",
    ".tt-bot { background: #fff; border: 1px solid #c8ced6; margin-right: auto; }",
    ".tt-me { background: #0a4a85; color: #fff; margin-left: auto; text-align: left; }",
    ".tt-wait { opacity: .8; }",
    ".tt-wait:after { content: ' · Đang gửi…'; font-size: 15px; }",
    ".tt-title { display: block; font-weight: bold; }",
    ".tt-choices { margin: 4px 0 10px; }",
    ".tt-choice { display: block; width: 100%; margin: 6px 0; padding: 12px; min-height: 52px;",
    "  font-size: 19px; text-align: left; color: #0a4a85; background: #fff;",
    "  border: 2px solid #0a4a85; border-radius: 8px; cursor: pointer; }",
    ".tt-choice:hover { background: #e6eef7; }",
    ".tt-status { position: absolute; left: 0; right: 0; bottom: 76px; padding: 4px 14px;",
    "  font-size: 16px; background: #8a1c1c; color: #fff; display: none; }",
    ".tt-form { position: absolute; left: 0; right: 0; bottom: 0; height: 76px; padding: 10px;",
    "  border-top: 1px solid #ccc; background: #fff; }",
    ".tt-input { width: 100%; height: 56px; padding: 8px 96px 8px 12px; font-size: 19px;",
    "  border: 2px solid #555; border-radius: 8px; color: #1a1a1a; background: #fff; }",
    ".tt-send { position: absolute; right: 14px; top: 14px; height: 48px; min-width: 80px;",
    "  font-size: 19px; font-weight: bold; color: #fff; background: #0a4a85; border: 0;",
    "  border-radius: 6px; cursor: pointer; }",
    ".tt-hidden { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }"
  ].join("\n");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.appendChild(document.createTextNode(text)); }
    return node;
  }

  var style = el("style");
  style.type = "text/css";
  if (style.styleSheet) { style.styleSheet.cssText = css; } else { style.appendChild(document.createTextNode(css)); }
  document.getElementsByTagName("head")[0].appendChild(style);

  var root = el("div", "tt-chat");
  root.setAttribute("lang", "vi");
  var openButton = el("button", "tt-open", "💬 " + (script.getAttribute("data-button") || "Hỏi đáp thủ tục"));
  openButton.type = "button";
  openButton.setAttribute("aria-haspopup", "dialog");
  var panel = el("div", "tt-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var head = el("div", "tt-head", title);
  var close = el("button", "tt-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Đóng khung trò chuyện");
  var note = el("div", "tt-note",
    "Đây là trợ lý tự động, không phải cán bộ. Muốn gặp cán bộ, gõ «gặp cán bộ». ");
  var privacy = el("a", null, "Quyền riêng tư");
  privacy.href = privacyUrl;
  privacy.target = "_blank";
  privacy.rel = "noopener";
  note.appendChild(privacy);
  var logBox = el("div", "tt-log");
  logBox.setAttribute("role", "log");
  logBox.setAttribute("aria-live", "polite");
  logBox.setAttribute("tabindex", "0");
  logBox.setAttribute("aria-label", "Nội dung trò chuyện");
  var status = el("div", "tt-status", "Mất kết nối. Đang thử lại… Tin của bạn sẽ được gửi khi có mạng.");
  status.setAttribute("role", "status");
  var form = el("form", "tt-form");
  var inputId = "tt-input-" + Math.floor(Math.random() * 1e9);
  var label = el("label", "tt-hidden", "Nhập câu hỏi của bạn");
  label.setAttribute("for", inputId);
  var input = el("input", "tt-input");
  input.id = inputId;
  input.type = "text";
  input.maxLength = 1000;
  input.setAttribute("autocomplete", "off");
  input.placeholder = "Nhập câu hỏi…";
  var send = el("button", "tt-send", "Gửi");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(close);
  panel.appendChild(note);
  panel.appendChild(logBox);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(openButton);
  root.appendChild(panel);
  (document.body || document.documentElement).appendChild(root);

  logBox.appendChild(el("div", "tt-msg tt-bot",
    "Xin chào! Tôi là trợ lý tự động hướng dẫn thủ tục hành chính. " +
    "Bạn gõ câu hỏi, ví dụ: «làm giấy khai sinh», hoặc gõ «gặp cán bộ»."));

  // --- rendering --------------------------------------------------------------------------------
  var choices = null; // the buttons under the latest bot message

  function scrollDown() { logBox.scrollTop = logBox.scrollHeight; }

  function pendingBubble(item) {
    var bubble = el("div", "tt-msg tt-me tt-wait", item.label || item.text);
    bubble.setAttribute("data-pending", item.id);
    logBox.appendChild(bubble);
  }

  function removePending(id) {
    var nodes = logBox.childNodes;
    for (var i = nodes.length - 1; i >= 0; i--) {
      if (nodes[i].getAttribute && nodes[i].getAttribute("data-pending") === id) {
        logBox.removeChild(nodes[i]);
      }
    }
  }

  function dropChoices() {
    if (choices && choices.parentNode) { choices.parentNode.removeChild(choices); }
    choices = null;
  }

  function showLine(line) {
    if (seen[line.seq]) { return; }
    seen[line.seq] = true;
    if (line.seq > last) { last = line.seq; }
    if (line.from === "me" && line.id) { removePending(line.id); }
    dropChoices();
    var bubble = el("div", "tt-msg " + (line.from === "me" ? "tt-me" : "tt-bot"), line.text);
    bubble.setAttribute("data-seq", String(line.seq));
    // keep the citizen's messages still being sent below what the server has
    var firstPending = null;
    for (var i = 0; i < logBox.childNodes.length; i++) {
      var node = logBox.childNodes[i];
      if (node.getAttribute && node.getAttribute("data-pending")) { firstPending = node; break; }
    }
    if (line.file && session) {
      var link = el("a", "tt-file", "Tải tệp: " + line.file.name);
      link.href = base + "/chat/api/file/" + line.file.id + "?session=" + encodeURIComponent(session);
      link.setAttribute("download", line.file.name);
      bubble.appendChild(document.createElement("br"));
      bubble.appendChild(link);
    }
    logBox.insertBefore(bubble, firstPending);
    if (line.from !== "me" && line.buttons && line.buttons.length) {
      choices = el("div", "tt-choices");
      choices.setAttribute("role", "group");
      choices.setAttribute("aria-label", "Lựa chọn");
      for (var j = 0; j < line.buttons.length; j++) {
        choices.appendChild(choiceButton(line.buttons[j]));
      }
      logBox.insertBefore(choices, firstPending);
    }
  }

  function choiceButton(choice) {
    var button = el("button", "tt-choice", choice.label);
    button.type = "button";
    button.onclick = function () { queue({ button: choice.data, label: choice.label }); };
    return button;
  }

  function setOnline(value) {
    if (online === value) { return; }
    online = value;
    status.style.display = value ? "none" : "block";
    // the notice must not hide the last messages (the ones still being sent)
    logBox.style.bottom = (76 + (value ? 0 : status.offsetHeight)) + "px";
    scrollDown();
  }

  // --- transport --------------------------------------------------------------------------------
  function request(method, path, body, timeoutMs, done) {
    var xhr = new XMLHttpRequest();
    var finished = false;
    xhr.open(method, base + path, true);
    xhr.timeout = timeoutMs;
    function finish(code, data) {
      if (finished) { return; }
      finished = true;
      done(code, data);
    }
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      finish(xhr.status, data);
    };
    xhr.ontimeout = function () { finish(0, null); };
    xhr.onerror = function () { finish(0, null); };
    if (body !== null) {
      xhr.setRequestHeader("Content-Type", "text/plain;charset=UTF-8"); // no CORS preflight
      xhr.send(JSON.stringify(body));
    } else {
      xhr.send();
    }
  }

  function backoff(attempt) { return Math.min(10000, 500 * Math.pow(2, attempt)); }

  function newId() {
    var chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    var out = new Date().getTime().toString(36) + "-";
    var bytes = null;
    var cryptoObj = window.crypto || window.msCrypto;
    if (cryptoObj && cryptoObj.getRandomValues) {
      bytes = new Uint8Array(12);
      cryptoObj.getRandomValues(bytes);
    }
    for (var i = 0; i < 12; i++) {
      var n = bytes ? bytes[i] : Math.floor(Math.random() * 256);
      out += chars.charAt(n % chars.length);
    }
    return out;
  }

  function withSession(then) {
    if (session) { then(); return; }
    var attempt = 0;
    (function ask() {
      request("POST", "/chat/api/session", {}, 10000, function (code, data) {
        if (code === 200 && data && data.session) {
          session = data.session;
          save("session", session);
          setOnline(true);
          then();
        } else {
          setOnline(false);
          setTimeout(ask, backoff(attempt++));
        }
      });
    })();
  }

  var sending = false;
  var sendAttempt = 0;
  function flush() {
    if (sending || !pending.length || !session) { return; }
    sending = true;
    var item = pending[0];
    var body = { session: session, id: item.id };
    if (item.button) { body.button = item.button; body.label = item.label; } else { body.text = item.text; }
    request("POST", "/chat/api/send", body, 15000, function (code) {
      sending = false;
      if (code === 200 || (code >= 400 && code < 500 && code !== 429 && code !== 408)) {
        // accepted (or refused for good: trying again cannot help)
        pending.shift();
        save("pending", pending);
        if (code !== 200) {
          removePending(item.id);
          logBox.appendChild(el("div", "tt-msg tt-bot",
            code === 413 ? "Tin nhắn quá dài, bạn gõ ngắn hơn giúp tôi nhé." :
              "Tin nhắn này không gửi được. Bạn gõ lại giúp tôi nhé."));
          scrollDown();
        }
        sendAttempt = 0;
        setOnline(true);
        flush();
        return;
      }
      setOnline(code === 429);
      setTimeout(flush, backoff(sendAttempt++));
    });
  }

  function queue(item) {
    item.id = newId();
    pending.push(item);
    save("pending", pending);
    pendingBubble(item);
    scrollDown();
    withSession(flush);
  }

  var pollAttempt = 0;
  function poll(wait) {
    request("GET", "/chat/api/messages?session=" + encodeURIComponent(session) + "&after=" + last + "&wait=" + wait,
      null, (wait + 10) * 1000, function (code, data) {
        if (code === 200 && data && data.messages) {
          setOnline(true);
          pollAttempt = 0;
          var atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 80;
          for (var i = 0; i < data.messages.length; i++) { showLine(data.messages[i]); }
          if (data.messages.length && (atBottom || wait === 0)) { scrollDown(); }
          flush();
          poll(WAIT);
        } else {
          setOnline(false);
          setTimeout(function () { poll(WAIT); }, backoff(pollAttempt++));
        }
      });
  }

  function start() {
    if (started) { return; }
    started = true;
    for (var i = 0; i < pending.length; i++) { pendingBubble(pending[i]); }
    withSession(function () {
      flush();
      poll(0);
    });
  }

  function layout() {
    // the notice wraps to more lines on a narrow screen: the log starts below it
    if (opened) { logBox.style.top = (head.offsetHeight + note.offsetHeight) + "px"; }
  }
  if (window.addEventListener) { window.addEventListener("resize", layout, false); }

  function show() {
    opened = true;
    panel.className = "tt-panel tt-shown";
    openButton.style.display = "none";
    layout();
    start();
    scrollDown();
    input.focus();
  }

  function hide() {
    opened = false;
    panel.className = "tt-panel";
    openButton.style.display = "";
    openButton.focus();
  }

  openButton.onclick = show;
  close.onclick = hide;
  panel.onkeydown = function (event) {
    event = event || window.event;
    if (event.keyCode === 27) { hide(); }
  };
  form.onsubmit = function (event) {
    if (event && event.preventDefault) { event.preventDefault(); }
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (text) {
      input.value = "";
      queue({ text: text, label: null });
    }
    input.focus();
    return false;
  };
  if (session || pending.length || script.getAttribute("data-open") === "true") {
    if (script.getAttribute("data-open") === "true") { show(); } else { start(); }
  }
  window.thutucChat = { open: show, close: hide, isOpen: function () { return opened; } };
})();

/* The inbox, live: when the socket (static/messaging/live.js) announces a message or a read
 * receipt, the open thread's messages and the conversation list are fetched again through
 * htmx (the server renders them: one template for pages and updates). Also keeps the thread
 * scrolled to its newest message, sends with Enter, and tells the others you are typing. */
(function () {
  "use strict";
  var timers = {};

  function later(key, work) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(work, 120);
  }

  function thread() {
    return document.getElementById("msg-thread");
  }

  function scrollToNewest() {
    var box = document.getElementById("msg-messages");
    if (box) {
      box.scrollTop = box.scrollHeight;
    }
  }

  function reloadMessages() {
    var current = thread();
    if (!current || !window.htmx) {
      return;
    }
    window.htmx.ajax("GET", current.getAttribute("data-messages-url"), {
      target: "#msg-messages",
      swap: "innerHTML",
    }).then(function () {
      scrollToNewest();
      if (window.messagingLive) {
        window.messagingLive.refreshUnread();
      }
    });
  }

  function reloadList() {
    var list = document.getElementById("msg-conversation-list");
    if (!list || !window.htmx) {
      return;
    }
    var current = thread();
    var url = list.getAttribute("data-list-url");
    if (current) {
      url += "?selected=" + encodeURIComponent(current.getAttribute("data-conversation-id"));
    }
    window.htmx.ajax("GET", url, { target: "#msg-conversation-list", swap: "innerHTML" });
  }

  var typingTimer = null;

  document.addEventListener("messaging:event", function (event) {
    var data = event.detail || {};
    var current = thread();
    var openId = current ? Number(current.getAttribute("data-conversation-id")) : null;
    var conversation = data.message ? data.message.conversation : data.conversation;
    if (data.type === "typing") {
      var note = document.getElementById("msg-typing");
      if (note && conversation === openId && document.documentElement.getAttribute("data-messaging-user") !== String(data.user)) {
        note.textContent = (data.name || "") + " …";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { note.textContent = ""; }, 4000);
      }
      return;
    }
    if (data.type === "hello") {
      return;
    }
    if (conversation === openId) {
      later("messages", reloadMessages);
    }
    if (data.type !== "read") {
      later("list", reloadList);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && (target.id === "msg-thread" || target.id === "msg-messages" || target.id === "msg-thread-pane")) {
      scrollToNewest();
      var body = document.querySelector("#msg-thread .msg-input");
      if (body && target.id === "msg-thread") {
        body.focus();
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || !target.classList || !target.classList.contains("msg-input")) {
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      var form = target.form;
      if (form && form.requestSubmit) {
        form.requestSubmit();
      }
      return;
    }
    var current = thread();
    if (current && window.messagingLive) {
      window.messagingLive.send({
        type: "typing",
        conversation: Number(current.getAttribute("data-conversation-id")),
      });
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollToNewest);
  } else {
    scrollToNewest();
  }
})();

// Optional: saves the answers of an open attempt as the learner goes, so a dropped
// connection loses nothing. The page works the same without it (Save buttons).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.set("action", "save");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).catch(function () { /* the Save button still works */ });
  }
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(save, 400);
  });
}());

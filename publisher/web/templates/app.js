// jobpub web app: validate the posting as the recruiter types (the server runs validate's
// own rules and answers with its problems).
(function () {
  var text = document.getElementById("text");
  if (!text) { return; }
  var list = document.getElementById("problems");
  var timer = null;
  function show(problems) {
    list.textContent = "";
    if (!problems.length) { var li = document.createElement("li"); li.textContent = "None."; list.appendChild(li); }
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = p.severity;
      li.textContent = "line " + p.line + ": " + p.severity + " " + p.rule +
        (p.board ? " [" + p.board + "]" : "") + " " + p.message;
      list.appendChild(li);
    });
  }
  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(text.dataset.validate, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": text.dataset.csrf},
        body: JSON.stringify({text: text.value})})
        .then(function (r) { return r.json(); })
        .then(function (data) { show(data.problems || []); });
    }, 300);
  });
}());

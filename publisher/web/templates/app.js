// jobpub web app: validate the posting as the recruiter types (the server runs validate's
// own rules and answers with its problems); each problem's line number selects that line.
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
      var go = document.createElement("button");
      go.type = "button"; go.className = "goto"; go.dataset.line = p.line;
      go.textContent = "line " + p.line;
      li.appendChild(go);
      li.appendChild(document.createTextNode(": " + p.severity + " " + p.rule +
        (p.board ? " [" + p.board + "]" : "") + " " + p.message));
      list.appendChild(li);
    });
  }
  // "line N" selects that line in the editor, so the problem is next to the cursor.
  list.addEventListener("click", function (event) {
    var line = Number(event.target.dataset && event.target.dataset.line);
    if (!line) { return; }
    var lines = text.value.split("\n"), start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
    text.focus();
    text.setSelectionRange(start, start + (lines[line - 1] || "").length);
    var height = text.scrollHeight / Math.max(lines.length, 1);
    text.scrollTop = Math.max(0, (line - 3) * height);
  });
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

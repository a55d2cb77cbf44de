// jobpub careers site: filter the open positions in the browser (no server). Without this
// script every position is listed.
(function () {
  var form = document.getElementById("filters");
  var items = Array.prototype.slice.call(document.querySelectorAll("#jobs li"));
  var count = document.getElementById("count");
  var none = document.getElementById("none");
  var template = count.getAttribute("data-template") || count.textContent.replace(/\d+/, "{n}");
  form.hidden = false;
  function apply() {
    var wanted = {};
    Array.prototype.forEach.call(form.elements, function (el) { wanted[el.name] = el.value; });
    var shown = 0;
    items.forEach(function (li) {
      var ok = (!wanted.department || li.dataset.department === wanted.department) &&
        (!wanted.location || li.dataset.location.split("|").indexOf(wanted.location) >= 0) &&
        (!wanted.workplace || li.dataset.workplace === wanted.workplace);
      li.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = template.replace("{n}", shown);
    none.hidden = shown > 0;
  }
  form.addEventListener("change", apply);
}());

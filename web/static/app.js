// The workbench's only script: select every exception on the page, and
// remember the page a bulk action came from. The page works without it.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('#exceptions input[name="id"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  var back = document.querySelector('#bulk input[name="back"]');
  if (back) {
    back.value = location.pathname + location.search;
  }
});

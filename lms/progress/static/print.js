// The certificate's "Print" button (CSP allows no inline script).
(function () {
  "use strict";
  var button = document.getElementById("print-certificate");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
}());

// Keyboard for the review queue: c confirms, e jumps to the correction form, n skips.
document.addEventListener("keydown", function (event) {
  var screen = document.querySelector(".review-screen");
  if (!screen || /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) return;
  if (event.key === "c") { document.getElementById("confirm-form").submit(); }
  else if (event.key === "e") { event.preventDefault(); document.getElementById("f-department").focus(); }
  else if (event.key === "n") { window.location = screen.dataset.next; }
});

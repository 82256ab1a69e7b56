// Submit page: clicking "line N" of an error selects that line of the definition.
(function () {
  "use strict";
  const editor = document.getElementById("definition");
  if (!editor) return;
  function selectLine(number) {
    const lines = editor.value.split("\n");
    let start = 0;
    for (let i = 0; i < number - 1 && i < lines.length; i++) start += lines[i].length + 1;
    const end = start + (lines[number - 1] || "").length;
    editor.focus();
    editor.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
    editor.scrollTop = Math.max(0, (number - 4) * lineHeight);
  }
  for (const link of document.querySelectorAll(".goto-line")) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      selectLine(Number(link.dataset.line));
    });
  }
  const firstError = document.querySelector(".goto-line");
  if (firstError) selectLine(Number(firstError.dataset.line));
})();

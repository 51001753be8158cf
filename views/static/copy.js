// Copy buttons (the new API token page): a button with data-copy="<id>" copies that element's text
// and says so. Hidden until this script runs: without scripts there is nothing to press.
(function () {
  var status = document.getElementById('copy-status');
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    var target = document.getElementById(button.getAttribute('data-copy'));
    if (!target) return;
    button.hidden = false;
    function copied() {
      button.textContent = button.getAttribute('data-copied');
      if (status) status.textContent = button.getAttribute('data-copied');
    }
    // Without the Clipboard API (an http:// address other than localhost): the text is selected and
    // copied the old way.
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (document.execCommand('copy')) copied();
    }
    button.addEventListener('click', function () {
      var text = target.textContent.trim();
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(copied, fallback);
      else fallback();
    });
  });
})();

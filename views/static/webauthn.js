// Security keys: forms marked data-webauthn="create" or "get" carry the options from the server
// (data-options); on submit the browser talks to the key, the answer goes into the hidden field
// "credential", and the form is posted as usual. No inline script (CSP script-src 'self').
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var forms = document.querySelectorAll('form[data-webauthn]');
  Array.prototype.forEach.call(forms, function (form) {
    var status = form.querySelector('.webauthn-status');
    function show(text) {
      if (status) { status.textContent = text; status.hidden = false; }
    }
    if (!lib || !lib.browserSupportsWebAuthn()) {
      show(form.getAttribute('data-unsupported'));
      return;
    }
    form.addEventListener('submit', function (event) {
      if (form.getAttribute('data-ready') === '1') return;
      event.preventDefault();
      var optionsJSON = JSON.parse(form.getAttribute('data-options'));
      var ceremony = form.getAttribute('data-webauthn') === 'create'
        ? lib.startRegistration({ optionsJSON: optionsJSON })
        : lib.startAuthentication({ optionsJSON: optionsJSON });
      show(form.getAttribute('data-waiting'));
      ceremony.then(function (credential) {
        form.querySelector('input[name=credential]').value = JSON.stringify(credential);
        form.setAttribute('data-ready', '1');
        form.submit();
      }, function () {
        show(form.getAttribute('data-failed'));
      });
    });
  });
})();

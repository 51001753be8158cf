// kAuth pages: the sign-in page waits for the phone's answer and continues by itself; the
// Security page waits for the phone to link. Both poll a small JSON status (CSP connect-src 'self').
(function () {
  'use strict';
  function poll(url, every, onStatus) {
    var stopped = false;
    function tick() {
      if (stopped) return;
      fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' })
        .then(function (r) { return r.ok ? r.json() : { status: 'expired' }; })
        .then(function (body) { if (onStatus(body) === false) stopped = true; else setTimeout(tick, every); },
          function () { setTimeout(tick, every * 3); });
    }
    setTimeout(tick, every);
  }

  var box = document.getElementById('push');
  if (box && box.getAttribute('data-state') === 'pending') {
    var status = document.getElementById('push-status');
    poll(box.getAttribute('data-poll'), 1000, function (body) {
      if (body.status === 'pending') return true;
      box.setAttribute('data-state', body.status);
      status.textContent = box.getAttribute('data-msg-' + body.status) || '';
      if (body.status === 'approved') document.getElementById('push-continue').submit();
      return false;
    });
  }

  var enrol = document.getElementById('push-enrol');
  if (enrol) {
    poll(enrol.getAttribute('data-poll'), 1500, function (body) {
      if (body.status === 'pending') return true;
      enrol.setAttribute('data-status', body.status);
      enrol.textContent = enrol.getAttribute('data-msg-' + body.status) || '';
      if (body.status === 'linked') window.location.assign(enrol.getAttribute('data-done'));
      return false;
    });
  }
})();

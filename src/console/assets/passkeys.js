// The passkey buttons of our pages (web/passkey-button.ts renders them). WebAuthn is a browser API
// with no form to submit, so this file — served from our own origin, like the @simplewebauthn/browser
// bundle before it (console/passkey-assets.ts; CSP script-src 'self', no inline script) — asks the
// server for the ceremony's options, hands them to the authenticator, and posts its answer back.
// Everything is decided on the server; this only carries messages. Plain ES2017, no build step.
(function () {
  'use strict';

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw json;
        return json;
      });
    });
  }

  // The box's data-* fields (csrf, next, resume) and its inputs (a passkey's name) go with both posts.
  function fieldsOf(box) {
    var fields = { csrf: box.dataset.csrf || '', next: box.dataset.next || '', resume: box.dataset.resume || '' };
    box.querySelectorAll('input[name]').forEach(function (input) { fields[input.name] = input.value; });
    return fields;
  }

  // The alert is made when there is something to say (an empty one would still be an alert).
  function show(box, problem) {
    var alert = box.querySelector('[role=alert]');
    if (!alert) {
      alert = document.createElement('p');
      alert.className = 'error';
      alert.setAttribute('role', 'alert');
      alert.dataset.testid = 'passkey-problem';
      box.appendChild(alert);
    }
    // A cancelled or timed-out prompt is the browser's NotAllowedError: nothing was sent.
    var cancelled = problem && problem.name === 'NotAllowedError';
    alert.textContent = cancelled ? 'The passkey prompt was closed before it finished.' : (problem && problem.message) || 'The passkey did not work. Try again.';
    alert.dataset.code = cancelled ? 'passkey_cancelled' : (problem && problem.error) || 'passkey_failed';
  }

  function run(box, button) {
    var webauthn = window.SimpleWebAuthnBrowser;
    var fields = fieldsOf(box);
    var register = box.dataset.passkey === 'register';
    button.disabled = true;
    post(box.dataset.options, fields)
      .then(function (answer) {
        return register ? webauthn.startRegistration({ optionsJSON: answer.options }) : webauthn.startAuthentication({ optionsJSON: answer.options });
      })
      .then(function (credential) {
        fields.response = credential;
        return post(box.dataset.action, fields);
      })
      .then(function (answer) {
        window.location.assign(answer.redirect);
      })
      .catch(function (problem) {
        button.disabled = false;
        // Refused with somewhere to go instead (an organization that signs in through its IdP).
        if (problem && problem.location) window.location.assign(problem.location);
        else show(box, problem);
      });
  }

  document.querySelectorAll('[data-passkey]').forEach(function (box) {
    // Each box comes with the script tags, so a page with two boxes loads this twice: bind once.
    if (box.dataset.ready) return;
    box.dataset.ready = 'yes';
    var button = box.querySelector('button');
    if (!window.PublicKeyCredential || !window.SimpleWebAuthnBrowser) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    button.addEventListener('click', function () { run(box, button); });
  });
})();

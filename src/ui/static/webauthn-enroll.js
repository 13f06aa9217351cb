// Enrollment page: reads the invitation token from the URL fragment (never sent
// to any server by the browser), shows whom it is for, and creates the passkey.
window.Warta.onPage('enroll', function (page) {
  'use strict';
  const webauthn = window.SimpleWebAuthnBrowser;
  const warta = window.Warta;
  const { texts, status } = page;
  const summary = document.getElementById('invitation-summary');
  const form = document.getElementById('enroll-form');
  const button = document.getElementById('create-passkey');
  const nameInput = document.getElementById('passkey-name');

  const match = /(?:^#|&)invitation=([A-Za-z0-9_-]{16,128})/.exec(window.location.hash);
  if (!match) {
    warta.setStatus(summary, texts.no_token, 'error');
    return;
  }
  const token = match[1];
  // Keep the token out of the address bar and the history once read.
  window.history.replaceState(null, '', window.location.pathname + window.location.search);

  warta
    .callJSON('/api/invitations/lookup', { token: token })
    .then(function (invitation) {
      warta.setStatus(summary, texts.for.replace('{name}', invitation.display_name).replace('{organisation}', invitation.organisation));
      button.disabled = false;
    })
    .catch(function (error) {
      warta.showError(summary, error, texts);
    });

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    button.disabled = true;
    warta.setStatus(status, texts.working || '');
    try {
      const optionsJSON = await warta.callJSON('/api/webauthn/enrollment/options', { invitation: token });
      const credential = await webauthn.startRegistration({ optionsJSON: optionsJSON });
      const result = await warta.callJSON('/api/webauthn/enrollment/verify', { invitation: token, credential: credential, name: nameInput.value });
      warta.setStatus(status, texts.done, 'ok');
      window.location.assign(result.redirect_to);
    } catch (error) {
      warta.showError(status, error, texts);
      button.disabled = false;
    }
  });
});

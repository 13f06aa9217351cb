// Enrollment page: reads the invitation token from the URL fragment (never sent
// to any server by the browser), shows whom it is for, and creates the passkey.
'use strict';
window.Warta.onPage('enroll', function (page, warta) {
  const { texts, status } = page;
  const summary = document.getElementById('invitation-summary');
  const button = document.getElementById('create-passkey');

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
      // The organisation also allows a password with an authenticator app for this person: offer it, with the invitation.
      if ((invitation.methods || []).indexOf('password') !== -1) {
        document.getElementById('password-path').href = '/enroll/password#invitation=' + token;
        document.getElementById('other-method').hidden = false;
      }
    })
    .catch(function (error) {
      warta.showError(summary, error, texts);
    });

  warta.wirePasskeyForm(document.getElementById('enroll-form'), page, { options: '/api/webauthn/enrollment/options', verify: '/api/webauthn/enrollment/verify' }, function () {
    return { invitation: token };
  });
});

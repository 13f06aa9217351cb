// Sign-in page: usernameless (button), username-first (form), and conditional UI
// (passkeys offered in the username field's autofill).
window.Warta.onPage('signin', function (page) {
  'use strict';
  const webauthn = window.SimpleWebAuthnBrowser;
  const warta = window.Warta;
  const { root, texts, status } = page;
  const returnTo = root.dataset.returnTo || '/account';

  async function signIn(username, autofill) {
    const optionsJSON = await warta.callJSON('/api/webauthn/authentication/options', username ? { username: username } : {});
    const credential = await webauthn.startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: autofill });
    warta.finishSignIn(status, texts, await warta.callJSON('/api/webauthn/authentication/verify', { credential: credential, return_to: returnTo }));
  }

  function start(username) {
    warta.setStatus(status, texts.working || '');
    signIn(username, false).catch(function (error) {
      warta.showError(status, error, texts);
    });
  }

  document.getElementById('passkey-signin').addEventListener('click', function () {
    start('');
  });
  document.getElementById('username-form').addEventListener('submit', function (event) {
    event.preventDefault();
    start(document.getElementById('username').value.trim());
  });

  if (webauthn.browserSupportsWebAuthnAutofill) {
    webauthn.browserSupportsWebAuthnAutofill().then(function (available) {
      if (!available) return;
      signIn('', true).catch(function (error) {
        // A button press or the form aborts the autofill ceremony: that is not an error to show.
        if (error && error.name === 'AbortError') return;
        warta.showError(status, error, texts);
      });
    });
  }
});

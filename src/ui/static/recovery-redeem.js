// /recover: the user types their username and the code from the slip, sees
// which desk issued it, then sets up a new passkey (or a password with an
// authenticator app). The enrollment grant lives only in this page's memory.
'use strict';
window.Warta.onPage('recover', function (page, warta) {
  const { texts, status } = page;
  const redeemForm = document.getElementById('redeem-form');
  const enroll = document.getElementById('recovery-enroll');
  let grant = null;

  function when(iso) {
    const locale = document.documentElement.lang === 'pl' ? 'pl-PL' : 'en-GB';
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso)) + ' UTC';
  }

  redeemForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    const button = redeemForm.querySelector('button[type=submit]');
    button.disabled = true;
    warta.setStatus(status, texts.checking);
    try {
      const code = document.getElementById('recovery-code');
      const result = await warta.callJSON('/api/recovery/redeem', { username: document.getElementById('username').value, code: code.value });
      grant = result.grant;
      // The code is spent: off the page, so it is not left on screen or in the form's history.
      code.value = '';
      redeemForm.hidden = true;
      warta.setStatus(status, '');
      document.getElementById('issued-by').textContent = texts.issued.replace('{name}', result.user.display_name).replace('{desk}', result.desk).replace('{time}', when(result.issued_at));
      document.getElementById('revokes').hidden = !result.revokes_old_credentials;
      document.getElementById('password-option').hidden = result.methods.indexOf('password_totp') === -1;
      enroll.hidden = false;
      // The focused form is gone: move the focus to what replaced it, so keyboard and screen reader users land on it.
      document.getElementById('recovery-enroll-title').focus();
    } catch (error) {
      warta.showError(status, error, texts);
      button.disabled = false;
    }
  });

  warta.wirePasskeyForm(document.getElementById('recovery-passkey-form'), page, { options: '/api/recovery/passkey/options', verify: '/api/recovery/passkey/verify' }, function () {
    return { grant: grant };
  });

  const passwordForm = document.getElementById('recovery-password-form');
  document.getElementById('password-start').addEventListener('click', async function () {
    try {
      const setup = await warta.callJSON('/api/recovery/password/start', { grant: grant });
      document.getElementById('totp-qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(setup.qr_svg);
      document.getElementById('totp-secret').textContent = setup.secret;
      document.getElementById('totp-uri').textContent = setup.otpauth_uri;
      document.getElementById('totp-setup').hidden = false;
      passwordForm.hidden = false;
      document.getElementById('password-start').hidden = true;
    } catch (error) {
      warta.showError(status, error, texts);
    }
  });

  passwordForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    const password = document.getElementById('password').value;
    if (password !== document.getElementById('password_repeat').value) {
      warta.setStatus(status, texts.password_mismatch || texts.generic, 'error');
      return;
    }
    try {
      warta.finishSignIn(status, texts, await warta.callJSON('/api/recovery/password', { grant: grant, password: password, code: document.getElementById('code').value }));
    } catch (error) {
      warta.showError(status, error, texts);
    }
  });
});
